package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Backend;

import java.util.HashMap;
import java.util.Map;

/**
 * The CUDA backends of this process, created on first use. Nothing here runs (and no CUDA library is looked up)
 * until a CUDA device is asked for, so CPU-only use never touches the CUDA libraries. When a device cannot be
 * used — no driver, no GPU, a missing NVRTC/cuBLASLt, an index past the device count — {@link #backend} throws an
 * {@link IllegalStateException} that says which, and where the libraries were searched.
 */
public final class CudaBackends {
    private static CudaDriver driver;
    private static String driverProblem;
    private static final Map<Integer, CudaBackend> BACKENDS = new HashMap<>();

    private CudaBackends() {
    }

    /** The backend of {@code cuda:index}; throws explaining why when it is unavailable. */
    public static synchronized Backend backend(int index) {
        CudaBackend b = BACKENDS.get(index);
        if (b != null) {
            return b;
        }
        String problem = problem(index);
        if (problem != null) {
            throw new IllegalStateException("no backend for device cuda:" + index + ": " + problem);
        }
        CudaLibraries libs = CudaLibraries.fromEnvironment();
        try {
            b = new CudaBackend(new CudaContext(driver, index), new Nvrtc(libs.load(CudaLibraries.NVRTC)),
                new CuBlasLt(libs.load(CudaLibraries.CUBLASLT)), KernelCache.defaultDir());
        } catch (CudaLibraries.NotFoundException | CudaException e) {
            throw new IllegalStateException("no backend for device cuda:" + index + ": " + e.getMessage(), e);
        }
        BACKENDS.put(index, b);
        return b;
    }

    /** Whether {@code cuda:index} can be used (loads the driver on the first call). */
    public static synchronized boolean isAvailable(int index) {
        return problem(index) == null;
    }

    /** Why {@code cuda:index} cannot be used, or null when its driver and device are there. */
    public static synchronized String problem(int index) {
        if (driver == null && driverProblem == null) {
            driverProblem = probe(CudaLibraries.fromEnvironment());
        }
        if (driverProblem != null) {
            return driverProblem;
        }
        int count = driver.deviceCount();
        return index >= 0 && index < count ? null
            : "only " + count + " CUDA device" + (count == 1 ? "" : "s") + " present (cuda:0 .. cuda:" + (count - 1) + ")";
    }

    /** Loads the driver from {@code libs} and initialises it: null when it works, else the reason. */
    static String probe(CudaLibraries libs) {
        CudaDriver d;
        try {
            d = new CudaDriver(libs.load(CudaLibraries.DRIVER));
        } catch (CudaLibraries.NotFoundException | CudaException e) {
            return "no GPU usable: " + e.getMessage();
        }
        int rc = d.init();
        if (rc == CudaDriver.CUDA_ERROR_NO_DEVICE) {
            return "the CUDA driver is installed but reports no CUDA device (CUDA_ERROR_NO_DEVICE)";
        }
        if (rc != 0) {
            return "cuInit failed: " + d.errorText(rc);
        }
        driver = d;
        return null;
    }
}
