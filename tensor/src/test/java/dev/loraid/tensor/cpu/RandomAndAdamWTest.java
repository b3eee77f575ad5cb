package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.loraid.tensor.cpu.TestTensors.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomAndAdamWTest {
    private static final Backend CPU = new CpuBackend();

    /** Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter[4] key[2] → output[4]. */
    @Test
    void philoxMatchesPublishedKnownAnswers() {
        int[][] kat = {
            {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
            {-1, -1, -1, -1, -1, -1, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
            {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
                0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
        };
        for (int[] v : kat) {
            int[] out = new int[4];
            Philox.block(v[0], v[1], v[2], v[3], v[4], v[5], out);
            assertArrayEquals(new int[] {v[6], v[7], v[8], v[9]}, out);
        }
    }

    @Test
    void uniformFollowsTheDocumentedWordMapping() {
        long seed = 0x1234_5678_9ABC_DEF0L;
        Tensor u = Tensor.empty(DType.F64, 3, 5);
        CPU.randomUniform(u, seed, 6);
        double[] got = u.toDoubleArray();
        int[] w = new int[4];
        for (int i = 0; i < got.length; i++) {
            long n = 6 + i;
            Philox.block((int) (n >>> 2), 0, 0, 0, (int) seed, (int) (seed >>> 32), w);
            assertEquals((w[(int) (n & 3)] >>> 8) * 0x1p-24, got[i], 0.0, "uniform number " + n);
        }
    }

    /** Element i gets number offset + i whatever dst's layout: a strided fill equals a window of a longer one. */
    @Test
    void offsetsAndStridesAddress() {
        Tensor whole = Tensor.empty(DType.F32, 40);
        CPU.randomNormal(whole, 99, 0);
        Tensor part = Tensor.zeros(DType.F32, 4, 5).transpose(0, 1); // [5, 4] strided
        CPU.randomNormal(part, 99, 20);
        double[] w = whole.toDoubleArray();
        double[] p = part.toDoubleArray();
        for (int i = 0; i < 20; i++) {
            assertEquals(w[20 + i], p[i], 0.0);
        }
    }

    @Test
    void momentsMatchTheDistributions() {
        int n = 1 << 20;
        Tensor u = Tensor.empty(DType.F32, n);
        Tensor z = Tensor.empty(DType.F32, n);
        CPU.randomUniform(u, 42, 0);
        CPU.randomNormal(z, 42, 0);
        double[] us = u.toDoubleArray();
        double[] zs = z.toDoubleArray();
        double um = 0;
        double uv = 0;
        double zm = 0;
        double zv = 0;
        double z4 = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(us[i] >= 0 && us[i] < 1, "uniform out of [0, 1): " + us[i]);
            um += us[i];
            uv += us[i] * us[i];
            zm += zs[i];
            zv += zs[i] * zs[i];
            z4 += zs[i] * zs[i] * zs[i] * zs[i];
        }
        um /= n;
        uv = uv / n - um * um;
        zm /= n;
        zv = zv / n - zm * zm;
        z4 /= n;
        // 5 standard errors for 2^20 samples
        assertEquals(0.5, um, 5 * Math.sqrt(1 / 12.0 / n));
        assertEquals(1 / 12.0, uv, 5 * Math.sqrt(1 / 180.0 / n));
        assertEquals(0.0, zm, 5 / Math.sqrt(n));
        assertEquals(1.0, zv, 5 * Math.sqrt(2.0 / n));
        assertEquals(3.0, z4, 5 * Math.sqrt(96.0 / n));
        Tensor again = Tensor.empty(DType.F32, n);
        CPU.randomNormal(again, 43, 0);
        assertTrue(again.getDouble(0) != zs[0] || again.getDouble(1) != zs[1], "different seeds give different streams");
    }

    /** Ten AdamW steps against the published update written out in the test (PyTorch torch.optim.AdamW). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"F32", "F64"})
    void adamwMatchesPyTorchFormula(DType dtype) {
        Random rnd = new Random(3);
        int n = 37;
        double lr = 1e-2;
        double b1 = 0.9;
        double b2 = 0.999;
        double eps = 1e-8;
        double wd = 0.1;
        double[] p = new double[n];
        double[] m = new double[n];
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) rnd.nextGaussian();
        }
        Tensor pt = Tensor.of(toFloats(p), n).to(dtype);
        Tensor mt = Tensor.zeros(dtype, n);
        Tensor vt = Tensor.zeros(dtype, n);
        for (int step = 1; step <= 10; step++) {
            double[] g = new double[n];
            for (int i = 0; i < n; i++) {
                g[i] = (float) rnd.nextGaussian();
            }
            CPU.adamwUpdate(pt, Tensor.of(toFloats(g), n).to(dtype), mt, vt, lr, b1, b2, eps, wd, step);
            for (int i = 0; i < n; i++) {
                p[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.pow(b1, step));
                double vHat = v[i] / (1 - Math.pow(b2, step));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
        }
        double tol = dtype == DType.F64 ? 1e-13 : 1e-6;
        assertClose("adamw param", p, pt.toDoubleArray(), tol);
        assertClose("adamw m", m, mt.toDoubleArray(), tol);
        assertClose("adamw v", v, vt.toDoubleArray(), tol);
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
