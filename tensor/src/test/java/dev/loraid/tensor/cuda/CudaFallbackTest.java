package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Without a usable GPU: CUDA devices are refused with the reason, {@code auto} falls back, the CPU is untouched. */
class CudaFallbackTest {
    @TempDir
    Path tmp;

    @Test
    void cudaDeviceWithoutGpuExplainsWhy() {
        assumeFalse(CudaBackends.isAvailable(0), "a CUDA device is present: the fallback is not exercised here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.of(Device.cuda(0)));
        assertTrue(e.getMessage().startsWith("no backend for device cuda:0: "), e.getMessage());
        assertNotNull(CudaBackends.problem(0));
        assertTrue(e.getMessage().contains(CudaBackends.problem(0)));
        // a tensor on the device fails the same way, naming it
        assertThrows(IllegalStateException.class, () -> Tensor.zeros(Device.cuda(0), DType.F32, 2));
    }

    @Test
    void autoFallsBackToTheCpuAndExplicitCpuNeverLooksForCuda() {
        assumeFalse(CudaBackends.isAvailable(0), "a CUDA device is present");
        String old = System.getProperty("loraid.device");
        try {
            System.setProperty("loraid.device", "auto");
            assertEquals(Device.CPU, Backends.defaultDevice());
            System.setProperty("loraid.device", "cuda");
            assertEquals(Device.cuda(0), Backends.defaultDevice(), "strict: cuda stays cuda, its use fails with the reason");
            System.setProperty("loraid.device", "cpu");
            assertEquals(Device.CPU, Backends.defaultDevice());
        } finally {
            if (old == null) {
                System.clearProperty("loraid.device");
            } else {
                System.setProperty("loraid.device", old);
            }
        }
        Tensor t = Tensor.of(new float[] {1, 2, 3}, 3);
        assertEquals(2.0, t.getDouble(1));
    }

    @Test
    void probeReportsAMissingOrBrokenDriver() throws IOException {
        String missing = CudaBackends.probe(new CudaLibraries(List.of(tmp)));
        if (missing != null) { // null only where the system loader finds a real libcuda and a GPU
            assertTrue(missing.startsWith("no GPU usable: ") || missing.contains("no CUDA device"), missing);
        }
        Path fake = tmp.resolve("fake");
        Files.createDirectories(fake);
        Files.writeString(fake.resolve("libcuda.so.1"), "garbage");
        String broken = CudaBackends.probe(new CudaLibraries(List.of(fake)));
        assertTrue(broken.contains(fake.resolve("libcuda.so.1").toString()) && broken.contains("does not load"), broken);
    }
}
