package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The counter-based host stream: determinism, resumption, independent keys and the moments of its draws. */
class HostRandomTest {
    private static final int N = 200_000;

    @Test
    void a_draw_is_a_function_of_key_and_position() {
        HostRandom a = new HostRandom(42);
        double[] first = new double[100];
        for (int i = 0; i < first.length; i++) {
            first[i] = a.uniform();
        }
        assertEquals(100, a.position());
        HostRandom b = new HostRandom(42);
        for (int i = 0; i < first.length; i++) {
            assertEquals(first[i], b.uniform(), 0, "draw " + i);
            assertEquals(first[i], HostRandom.uniformAt(42, i), 0, "uniformAt " + i);
        }
        HostRandom resumed = new HostRandom(42, 37);
        assertEquals(first[37], resumed.uniform(), 0, "resumed at position 37");
        HostRandom n = new HostRandom(42, 5);
        assertEquals(HostRandom.probit(first[5]), n.normal(), 0, "a normal is Φ⁻¹ of the uniform at its position");
        assertEquals(6, n.position());
    }

    @Test
    void keys_differ_in_every_part_and_their_streams_are_uncorrelated() {
        Set<Long> keys = new HashSet<>();
        keys.add(HostRandom.key(1, "timestep"));
        keys.add(HostRandom.key(2, "timestep"));
        keys.add(HostRandom.key(1, "noise"));
        keys.add(HostRandom.key(1, "timestep", 0));
        keys.add(HostRandom.key(1, "timestep", 1));
        keys.add(HostRandom.key(1, "timestep", 0, 1));
        keys.add(HostRandom.key(1, "timestep", 1, 0));
        keys.add(HostRandom.key(1, "timestep", 0, 0));
        assertEquals(8, keys.size());
        assertEquals(HostRandom.key(7, "a", 3, 4), HostRandom.key(7, "a", 3, 4));
        // correlation of neighbouring streams: sample correlation has standard error 1/sqrt(n)
        HostRandom x = new HostRandom(HostRandom.key(9, "s", 0));
        HostRandom y = new HostRandom(HostRandom.key(9, "s", 1));
        double sxy = 0;
        for (int i = 0; i < N; i++) {
            sxy += (x.uniform() - 0.5) * (y.uniform() - 0.5);
        }
        double corr = sxy / N * 12;
        assertTrue(Math.abs(corr) < 5 / Math.sqrt(N), "correlation " + corr);
        assertNotEquals(HostRandom.uniformAt(HostRandom.key(9, "s", 0), 0), HostRandom.uniformAt(HostRandom.key(9, "s", 1), 0));
    }

    @Test
    void uniform_and_normal_moments() {
        HostRandom r = new HostRandom(HostRandom.key(20250601, "moments"));
        double s = 0;
        double s2 = 0;
        double min = 1;
        double max = 0;
        for (int i = 0; i < N; i++) {
            double u = r.uniform();
            assertTrue(u >= 0 && u < 1);
            s += u;
            s2 += u * u;
            min = Math.min(min, u);
            max = Math.max(max, u);
        }
        double mean = s / N;
        double var = s2 / N - mean * mean;
        assertEquals(0.5, mean, 5 * Math.sqrt(1 / 12.0 / N), "uniform mean");
        assertEquals(1 / 12.0, var, 5 * Math.sqrt(1 / 180.0 / N), "uniform variance (Var of U² − … : 1/180)");
        double m1 = 0;
        double m2 = 0;
        double m4 = 0;
        for (int i = 0; i < N; i++) {
            double z = r.normal();
            m1 += z;
            m2 += z * z;
            m4 += z * z * z * z;
        }
        assertEquals(0, m1 / N, 5 / Math.sqrt(N), "normal mean");
        assertEquals(1, m2 / N, 5 * Math.sqrt(2.0 / N), "normal variance");
        assertEquals(3, m4 / N, 5 * Math.sqrt(96.0 / N), "normal fourth moment (Var z⁴ = 105 − 9)");
    }

    @Test
    void probit_matches_known_quantiles() {
        assertEquals(0.0, HostRandom.probit(0.5), 1e-15);
        assertEquals(1.0, HostRandom.probit(0.8413447460685429), 2e-9);
        assertEquals(1.959963984540054, HostRandom.probit(0.975), 3e-9);
        assertEquals(-1.959963984540054, HostRandom.probit(0.025), 3e-9);
        assertEquals(-3.090232306167813, HostRandom.probit(0.001), 4e-9);
        assertEquals(-6.361340902404056, HostRandom.probit(1e-10), 1e-8);
        assertEquals(5.199337582290662, HostRandom.probit(1 - 1e-7), 1e-7);
        assertEquals(Double.NEGATIVE_INFINITY, HostRandom.probit(0));
        assertEquals(Double.POSITIVE_INFINITY, HostRandom.probit(1));
    }
}
