package dev.loraid.tensor.cuda;

import dev.loraid.tensor.CopyStream;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * {@link CopyStream} on a CUDA device: a second non-blocking stream for host-to-device copies, ordered against the
 * backend's compute stream by events (copy stream waits for an event recorded on the compute stream; the compute
 * stream waits for one recorded after the copies), so that neither stream nor the host blocks. The sources must be
 * page-locked ({@link #pinned}) for the copies to overlap compute: from pageable memory the driver stages each copy
 * and the host waits for it. Every event is created without timing and destroyed once waited for (the driver keeps it
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
        long bytes = src.numel() * src.dtype().byteSize();
        ctx.bind();
        MemorySegment raw = driver.memAllocHost(Math.max(1, bytes));
        CudaContext owner = ctx;
        CudaDriver d = driver;
        // freed when the tensor is unreachable, from whatever thread the cleaner runs on (bind makes the context current)
        MemorySegment seg = raw.reinterpret(bytes, Arena.ofAuto(), s -> {
            owner.bind();
            d.memFreeHost(raw);
        });
        MemorySegment.copy(src.storage().segment(), src.offset() * src.dtype().byteSize(), seg, 0, bytes);
        return new Tensor(Storage.host(seg), src.dtype(), src.shape(), src.shape().contiguousStrides(), 0);
    }

    @Override
    public Fence copyAfterCompute(List<Tensor> sources, List<Tensor> destinations) {
        CopyStream.checkPairs(sources, destinations, true);
        ctx.bind();
        MemorySegment computeDone = driver.eventCreateForOrdering();
        driver.eventRecord(computeDone, ctx.stream());
        driver.streamWaitEvent(stream, computeDone);
        driver.eventDestroy(computeDone);
        for (int i = 0; i < sources.size(); i++) {
            Tensor s = sources.get(i);
            Tensor d = destinations.get(i);
            long bytes = s.numel() * s.dtype().byteSize();
            MemorySegment from = s.storage().segment().asSlice(s.offset() * s.dtype().byteSize(), bytes);
            if (!from.isNative()) {
                throw new IllegalArgumentException("copy " + i + ": " + s + " is on the Java heap; give native (pinned) memory");
            }
            driver.copyHostToDevice(backend.pointer(d), from, bytes, stream);
        }
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
