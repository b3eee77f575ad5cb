package dev.loraid.tensor.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loraid.tensor.Backends;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;

/**
 * The device the model tests run on: {@code -Dloraid.test.device} ({@code cpu} by default; {@code cuda} on the GPU
 * machine, where scripts/gpu-check.sh sets it), so the same test classes check every backend.
 */
public final class TestDevice {
    private TestDevice() {
    }

    /** The device under test; skips the calling test, saying why, when that device cannot be used here. */
    public static Device get() {
        Device d = Backends.resolve(System.getProperty("loraid.test.device", "cpu"));
        String problem = Backends.problem(d);
        assumeTrue(problem == null, () -> "-Dloraid.test.device=" + d + " is not usable here: " + problem);
        return d;
    }

    /** An owned host copy of {@code t} (a tap, an output), for byte-wise comparison. */
    public static Tensor host(Tensor t) {
        return t.device().isCpu() ? t.copy() : t.to(Device.CPU);
    }
}
