package dev.loraid.tensor.cuda;

import dev.loraid.tensor.CopyStream;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * {@link CopyStream} on a CUDA device: a second non-blocking stream for copies in both directions, ordered against the
 * backend's compute stream by events (copy stream waits for an event recorded on the compute stream; the compute
 * stream waits for one recorded after the copies), so that neither stream nor the host blocks. The host side must be
 * page-locked ({@link #pinned}, {@link #hostBuffer}) for the copies to overlap compute: with pageable memory the driver
 * stages each copy and the host waits for it. Every event is created without timing and destroyed once waited for (the driver keeps it
 * until the wait is over).
 */
final class CudaCopyStream implements CopyStream {
    private final CudaBackend backend;
    private final CudaContext ctx;
    private final CudaDriver driver;
    private final MemorySegment stream;

    CudaCopyStream(CudaBackend backend) {
        this.backend = backend;
        this.ctx = backend.context();
        this.driver = ctx.driver();
        ctx.bind();
        this.stream = driver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
    }

    @Override
    public Tensor pinned(Tensor host) {
        if (!host.device().isCpu()) {
            throw new IllegalArgumentException("pinned: " + host + " is not in host memory");
        }
        Tensor src = host.isContiguous() ? host : host.contiguous();
        Tensor pinned = hostBuffer(src.dtype(), src.shape().toArray());
        long bytes = src.numel() * src.dtype().byteSize();
        MemorySegment.copy(src.storage().segment(), src.offset() * src.dtype().byteSize(), pinned.storage().segment(), 0, bytes);
        return pinned;
    }

    @Override
    public Tensor hostBuffer(DType dtype, long... shape) {
        Shape s = Shape.of(shape);
        long bytes = s.numel() * dtype.byteSize();
        ctx.bind();
        MemorySegment raw = driver.memAllocHost(Math.max(1, bytes));
        CudaContext owner = ctx;
        CudaDriver d = driver;
        // freed when the tensor is unreachable, from whatever thread the cleaner runs on (bind makes the context current)
        MemorySegment seg = raw.reinterpret(bytes, Arena.ofAuto(), r -> {
            owner.bind();
            d.memFreeHost(raw);
        });
        return new Tensor(Storage.host(seg), dtype, s, s.contiguousStrides(), 0);
    }

    @Override
    public Fence copyToHostAfterCompute(List<Tensor> sources, List<Tensor> destinations) {
        return copy(destinations, sources, true);
    }

    @Override
    public Fence copyAfterCompute(List<Tensor> sources, List<Tensor> destinations) {
        return copy(sources, destinations, false);
    }

    /** Enqueues the copies between each host tensor and the device tensor at its index, in the direction given. */
    private Fence copy(List<Tensor> host, List<Tensor> device, boolean toHost) {
        CopyStream.checkPairs(host, device, true);
        ctx.bind();
        waitForCompute();
        for (int i = 0; i < host.size(); i++) {
            Tensor h = host.get(i);
            Tensor d = device.get(i);
            long bytes = h.numel() * h.dtype().byteSize();
            MemorySegment side = h.storage().segment().asSlice(h.offset() * h.dtype().byteSize(), bytes);
            if (!side.isNative()) {
                throw new IllegalArgumentException("copy " + i + ": " + h + " is on the Java heap; give native (pinned) memory");
            }
            if (toHost) {
                driver.copyDeviceToHost(side, backend.pointer(d), bytes, stream);
            } else {
                driver.copyHostToDevice(backend.pointer(d), side, bytes, stream);
            }
        }
        return fenceAfterCopies();
    }

    /** Makes the copy stream wait for the work enqueued on the compute stream so far. */
    private void waitForCompute() {
        MemorySegment computeDone = driver.eventCreateForOrdering();
        driver.eventRecord(computeDone, ctx.stream());
        driver.streamWaitEvent(stream, computeDone);
        driver.eventDestroy(computeDone);
    }

    /** The point after the copies enqueued so far, for the compute stream to wait for. */
    private Fence fenceAfterCopies() {
        MemorySegment copied = driver.eventCreateForOrdering();
        driver.eventRecord(copied, stream);
        return new Fence() {
            private boolean awaited;

            @Override
            public void awaitOnCompute() {
                if (awaited) {
                    return;
                }
                awaited = true;
                ctx.bind();
                driver.streamWaitEvent(ctx.stream(), copied);
                driver.eventDestroy(copied);
            }
        };
    }
}
