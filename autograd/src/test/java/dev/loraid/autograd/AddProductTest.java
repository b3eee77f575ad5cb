package dev.loraid.autograd;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Ops#addProduct}: the bits of {@code a.add(b.mul(c))}, forward and backward, while the graph holds only the
 * result, not the product as well (its gradients against finite differences: {@code OpGradientTest}).
 */
class AddProductTest {
    @Test
    void theBitsOfAddAfterMulWithoutKeepingTheProduct() {
        Tensor a = f32(1, 8, 16);
        Tensor b = f32(2, 8, 16);
        Tensor c = f32(3, 1, 16); // a gate broadcast over the rows
        Tensor seed = f32(4, 8, 16);
        long bytes = 8 * 16 * 4;
        float[][] fused = new float[4][];
        float[][] composed = new float[4][];
        for (boolean fusedOp : new boolean[] {true, false}) {
            try (MemoryScope step = MemoryScope.open()) {
                Var[] v = {Var.leaf(a), Var.leaf(b), Var.leaf(c)};
                long before = step.bytesInUse(Device.CPU);
                Var out = fusedOp ? Ops.addProduct(v[0], v[1], v[2]) : v[0].add(v[1].mul(v[2]));
                assertEquals(fusedOp ? bytes : 2 * bytes, step.bytesInUse(Device.CPU) - before, "bytes the graph holds");
                out.backward(seed);
                float[][] r = fusedOp ? fused : composed;
                r[0] = out.data().toFloatArray();
                for (int i = 0; i < 3; i++) {
                    r[i + 1] = v[i].grad().toFloatArray();
                }
            }
        }
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(composed[i], fused[i], 0f, i == 0 ? "output" : "gradient " + (i - 1));
        }
    }
}
