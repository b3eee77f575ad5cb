package dev.loraid.tensor.cuda;

import java.lang.foreign.MemorySegment;

/**
 * One CUDA device as the backend uses it: its primary context (shared with any other CUDA user in the process),
 * one non-blocking stream on which every kernel, copy and GEMM is enqueued (so frees and reuse are ordered by
 * the stream), and the properties the launchers need.
 */
final class CudaContext {
    private final CudaDriver driver;
    private final int index;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final int computeCapability;
    private final int multiprocessors;
    private final String name;
    private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> false);

    CudaContext(CudaDriver driver, int index) {
        this.driver = driver;
        this.index = index;
        this.device = driver.device(index);
        this.context = driver.primaryContext(device);
        bind();
        this.stream = driver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
        this.computeCapability = driver.attribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR, device) * 10
            + driver.attribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR, device);
        this.multiprocessors = driver.attribute(CudaDriver.ATTR_MULTIPROCESSOR_COUNT, device);
        this.name = driver.deviceName(device);
    }

    /** Makes the context current on the calling thread (once per thread; every entry point calls this). */
    void bind() {
        if (!bound.get()) {
            driver.setCurrent(context);
            bound.set(true);
        }
    }

    CudaDriver driver() {
        return driver;
    }

    int index() {
        return index;
    }

    int device() {
        return device;
    }

    MemorySegment stream() {
        return stream;
    }

    /** e.g. 90 for sm_90. */
    int computeCapability() {
        return computeCapability;
    }

    int multiprocessors() {
        return multiprocessors;
    }

    String name() {
        return name;
    }

    void synchronize() {
        bind();
        driver.streamSynchronize(stream);
    }
}
