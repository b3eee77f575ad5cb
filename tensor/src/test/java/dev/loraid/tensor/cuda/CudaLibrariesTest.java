package dev.loraid.tensor.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Library discovery on fake folder trees: search order, the pip wheel layouts, and the messages. */
class CudaLibrariesTest {
    @TempDir
    Path tmp;

    private Path touch(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "not really a shared library");
        return file;
    }

    @Test
    void searchOrderIsPropertyThenLdLibraryPathThenWheelsThenCudaHome() throws IOException {
        Path venv = tmp.resolve("venv");
        Path site = venv.resolve("lib/python3.12/site-packages/nvidia");
        Files.createDirectories(site.resolve("cublas/lib"));
        Files.createDirectories(site.resolve("cuda_nvrtc/lib"));
        Files.createDirectories(site.resolve("cu13/lib"));          // CUDA 13 wheels: nvidia/cu13/lib
        Files.createDirectories(site.resolve("cudnn/cu13/lib"));    // and nested per-package variants
        Path sysPy = tmp.resolve("usr/lib/python3/dist-packages/nvidia/cublas/lib");
        Files.createDirectories(sysPy);
        List<Path> folders = CudaLibraries.searchFolders("/opt/a:/opt/b",
            Map.of("LD_LIBRARY_PATH", "/ld/one::/ld/two", "VIRTUAL_ENV", venv.toString(), "CUDA_HOME", "/cuda-home"),
            tmp.resolve("home"), List.of(tmp.resolve("usr/lib")));
        assertEquals(List.of(Path.of("/opt/a"), Path.of("/opt/b"), Path.of("/ld/one"), Path.of("/ld/two"),
            site.resolve("cu13/lib"), site.resolve("cublas/lib"), site.resolve("cuda_nvrtc/lib"),
            site.resolve("cudnn/cu13/lib"), sysPy, Path.of("/cuda-home/lib64"), Path.of("/usr/local/cuda/lib64")), folders);
    }

    @Test
    void locatePrefersTheNewestSonameThenTheFirstFolder() throws IOException {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        touch(a.resolve("libcublasLt.so.12"));
        Path newest = touch(b.resolve("libcublasLt.so.13"));
        touch(b.resolve("libnvrtc.so.12"));
        Path first = touch(a.resolve("libnvrtc.so.12"));
        CudaLibraries libs = new CudaLibraries(List.of(a, b));
        assertEquals(newest, libs.locate(CudaLibraries.CUBLASLT).orElseThrow());
        assertEquals(first, libs.locate(CudaLibraries.NVRTC).orElseThrow());
        assertTrue(libs.locate(CudaLibraries.DRIVER).isEmpty());
    }

    @Test
    void missingLibraryMessageNamesSonamesFoldersAndTheFix() {
        CudaLibraries libs = new CudaLibraries(List.of(tmp.resolve("x"), tmp.resolve("y")));
        CudaLibraries.NotFoundException e = assertThrows(CudaLibraries.NotFoundException.class,
            () -> libs.load(new CudaLibraries.Library("cuBLASLt", List.of("libloraid-missing-test.so.13"), "cublas")));
        String m = e.getMessage();
        assertTrue(m.startsWith("cuBLASLt library not found"), m);
        assertTrue(m.contains("libloraid-missing-test.so.13"), m);
        assertTrue(m.contains(tmp.resolve("x").toString()) && m.contains(tmp.resolve("y").toString()), m);
        assertTrue(m.contains("nvidia-cublas") && m.contains("-Dloraid.cuda.libpath"), m);
        String driver = libs.notFoundMessage(CudaLibraries.DRIVER);
        assertTrue(driver.contains("libcuda.so.1") && driver.contains("NVIDIA driver"), driver);
    }

    @Test
    void aFileThatIsNoLibrarySaysWhereItWasFound() throws IOException {
        Path bogus = touch(tmp.resolve("lib/libcuda.so.1"));
        CudaLibraries libs = new CudaLibraries(List.of(bogus.getParent()));
        CudaLibraries.NotFoundException e = assertThrows(CudaLibraries.NotFoundException.class,
            () -> libs.load(CudaLibraries.DRIVER));
        assertTrue(e.getMessage().contains("found " + bogus) && e.getMessage().contains("does not load"), e.getMessage());
    }

    @Test
    void environmentSearchIncludesTheLibpathProperty() {
        String old = System.getProperty("loraid.cuda.libpath");
        System.setProperty("loraid.cuda.libpath", tmp.toString());
        try {
            List<Path> folders = CudaLibraries.fromEnvironment().folders();
            assertEquals(tmp, folders.get(0));
            assertFalse(folders.isEmpty());
        } finally {
            if (old == null) {
                System.clearProperty("loraid.cuda.libpath");
            } else {
                System.setProperty("loraid.cuda.libpath", old);
            }
        }
    }
}
