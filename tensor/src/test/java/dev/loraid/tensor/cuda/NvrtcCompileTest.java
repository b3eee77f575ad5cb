package dev.loraid.tensor.cuda;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Our NVRTC binding compiling our kernels exactly as the backend does at run time (no GPU needed, only libnvrtc:
 * found like the backend finds it, e.g. -Dloraid.cuda.libpath=…/site-packages/nvidia/cu13/lib). Skipped, saying
 * so, where NVRTC is not installed.
 */
@Tag("gpu")
class NvrtcCompileTest {
    private static Nvrtc nvrtc;
    private static String problem;

    @TempDir
    Path cacheDir;

    @BeforeAll
    static void load() {
        try {
            nvrtc = new Nvrtc(CudaLibraries.fromEnvironment().load(CudaLibraries.NVRTC));
        } catch (CudaLibraries.NotFoundException | CudaException e) {
            problem = "NVRTC tests skipped: " + e.getMessage();
        }
    }

    @Test
    void everyModuleCompilesToACubinForSm90AndIsCached() {
        assumeTrue(nvrtc != null, () -> problem);
        KernelCache cache = new KernelCache(cacheDir);
        CudaKernels.SOURCES.parallelStream().forEach(module -> CudaKernels.compile(nvrtc, cache, module, 90));
        for (String module : CudaKernels.SOURCES) {
            byte[] cubin = CudaKernels.compile(nvrtc, cache, module, 90);
            // an ELF image: 0x7f 'E' 'L' 'F'
            assertTrue(cubin.length > 1000 && cubin[0] == 0x7f && cubin[1] == 'E' && cubin[2] == 'L' && cubin[3] == 'F',
                module + ".cu did not compile to an ELF CUBIN");
            assertArrayEquals(cubin, CudaKernels.compile(nvrtc, cache, module, 90), module + ": cached CUBIN differs");
        }
        try (var files = java.nio.file.Files.list(cacheDir)) {
            assertEquals(CudaKernels.SOURCES.size(), files.count(), "one cache entry per module");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        assertTrue(nvrtc.version().startsWith("1"), nvrtc.version());
    }

    @Test
    void aCompileErrorCarriesTheLog() {
        assumeTrue(nvrtc != null, () -> problem);
        CudaException e = assertThrows(CudaException.class, () -> nvrtc.compileToCubin("broken.cu",
            "extern \"C\" __global__ void k() { undefined_thing(); }", Map.of(), List.of("--gpu-architecture=sm_90")));
        assertTrue(e.getMessage().contains("broken.cu") && e.getMessage().contains("undefined_thing"), e.getMessage());
        assertEquals(CudaException.class, e.getClass());
    }
}
