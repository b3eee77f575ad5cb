package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Temporaries of one op (casts, fp32 accumulators, staging): taken from the caching allocator and given back when
 * the op has enqueued its work. Giving back before the kernels ran is safe: every later user of the memory is
 * enqueued behind them on the same stream.
 */
final class CudaScratch implements AutoCloseable {
    private final Device device;
    private final CudaAllocator allocator;
    private final List<CudaAllocator.Block> blocks = new ArrayList<>();

    CudaScratch(Device device, CudaAllocator allocator) {
        this.device = device;
        this.allocator = allocator;
    }

    /** An uninitialised contiguous device tensor valid until {@link #close}. */
    Tensor tensor(DType dtype, long... dims) {
        Shape s = Shape.of(dims);
        long bytes = s.numel() * dtype.byteSize();
        CudaAllocator.Block b = allocator.take(bytes);
        blocks.add(b);
        Storage st = new Storage(device, MemorySegment.ofAddress(b.ptr).reinterpret(bytes), this);
        return new Tensor(st, dtype, s, s.contiguousStrides(), 0);
    }

    @Override
    public void close() {
        for (CudaAllocator.Block b : blocks) {
            allocator.release(b.ptr, b.size);
        }
        blocks.clear();
    }
}
