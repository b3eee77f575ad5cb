package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Backends;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host ⇄ device copies for {@link CudaBackend#copy}. Only raw bytes cross the bus: strides, broadcasting and
 * dtype casts are done by the device's copy kernel (or by the CPU backend on the host side), so an upload is at
 * most one host gather, one transfer and one kernel. Host memory that is not native (a heap segment) is staged.
 */
final class CudaTransfers {
    private final CudaBackend backend;

    CudaTransfers(CudaBackend backend) {
        this.backend = backend;
    }

    void copy(Tensor src, Tensor dst) {
        Device here = backend.device();
        if (src.device().isCpu() && dst.device().equals(here)) {
            upload(src, dst);
        } else if (src.device().equals(here) && dst.device().isCpu()) {
            downloadInto(src, dst);
        } else if (src.device().isCpu() && dst.device().isCpu()) {
            Backends.cpu().copy(src, dst);
        } else {
            Tensor host = src.device().equals(here) ? download(src) : src.to(Device.CPU);
            if (dst.device().equals(here)) {
                upload(host, dst);
            } else {
                dst.backend().copy(host, dst);
            }
        }
    }

    private void upload(Tensor src, Tensor dst) {
        Tensor hs = src.isContiguous() ? src : src.contiguous();
        long bytes = hs.numel() * hs.dtype().byteSize();
        CudaContext ctx = backend.context();
        if (hs.dtype() == dst.dtype() && hs.shape().equals(dst.shape()) && dst.isContiguous()) {
            withNative(hs, bytes, seg -> ctx.driver().copyHostToDevice(backend.pointer(dst), seg, bytes, ctx.stream()));
            return;
        }
        try (CudaScratch s = backend.scratch()) {
            Tensor staged = s.tensor(hs.dtype(), hs.shape().toArray());
            withNative(hs, bytes, seg -> ctx.driver().copyHostToDevice(backend.pointer(staged), seg, bytes, ctx.stream()));
            backend.copy(staged, dst);
        }
    }

    /** A contiguous host copy of a device tensor (waits for the stream). */
    Tensor download(Tensor src) {
        Tensor host = Tensor.empty(Device.CPU, src.dtype(), src.shape().toArray());
        downloadInto(src, host);
        return host;
    }

    private void downloadInto(Tensor src, Tensor dst) {
        CudaContext ctx = backend.context();
        Tensor s = src.shape().equals(dst.shape()) ? src : src.expand(dst.shape());
        try (CudaScratch scratch = backend.scratch()) {
            Tensor dev = s;
            if (!(s.isContiguous() && s.dtype() == dst.dtype())) {
                dev = scratch.tensor(dst.dtype(), dst.shape().toArray());
                backend.copy(s, dev);
            }
            long bytes = dst.numel() * dst.dtype().byteSize();
            Tensor target = dst.isContiguous() && dst.storage().segment().isNative() ? dst
                : Tensor.empty(Device.CPU, dst.dtype(), dst.shape().toArray());
            MemorySegment seg = target.storage().segment().asSlice(target.offset() * target.dtype().byteSize(), bytes);
            ctx.driver().copyDeviceToHost(seg, backend.pointer(dev), bytes, ctx.stream());
            ctx.driver().streamSynchronize(ctx.stream());
            if (target != dst) {
                Backends.cpu().copy(target, dst);
            }
        }
    }

    private interface SegmentUse {
        void accept(MemorySegment seg);
    }

    /** Runs {@code use} on t's bytes as a native segment, staging heap memory through a temporary copy. */
    private static void withNative(Tensor t, long bytes, SegmentUse use) {
        MemorySegment seg = t.storage().segment().asSlice(t.offset() * t.dtype().byteSize(), bytes);
        if (seg.isNative()) {
            use.accept(seg);
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = a.allocate(Math.max(1, bytes), 64);
            MemorySegment.copy(seg, 0, tmp, 0, bytes);
            use.accept(tmp.asSlice(0, bytes));
        }
    }
}
