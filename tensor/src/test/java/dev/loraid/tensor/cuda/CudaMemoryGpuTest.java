package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** On a GPU: the step-scoped arena and the caching allocator keep a training-like loop off cuMemAlloc. */
@Tag("gpu")
class CudaMemoryGpuTest {
    @Test
    void stepsAfterTheFirstMakeNoDriverAllocations() {
        CudaBackend b = (CudaBackend) GpuHarness.gpuOrSkip();
        Tensor w = Tensor.zeros(GpuHarness.GPU, DType.F32, 256, 256);
        long after1 = -1;
        long reserved1 = -1;
        for (int step = 0; step < 4; step++) {
            try (MemoryScope s = MemoryScope.open()) {
                Tensor x = Tensor.zeros(GpuHarness.GPU, DType.F32, 64, 256);
                Tensor y = Tensor.empty(GpuHarness.GPU, DType.F32, 64, 256);
                b.matmul(x, w, y, 1, 0, null);
                b.unary(dev.loraid.tensor.UnaryOp.SILU, y, y);
                assertTrue(s.bytesInUse(GpuHarness.GPU) >= 2 * 64 * 256 * 4);
            }
            if (step == 0) {
                after1 = b.allocator().driverAllocations();
                reserved1 = MemoryScope.bytesReserved(GpuHarness.GPU);
            }
        }
        b.synchronize();
        assertEquals(after1, b.allocator().driverAllocations(), "no cuMemAlloc after the first step");
        assertEquals(reserved1, MemoryScope.bytesReserved(GpuHarness.GPU));
    }
}
