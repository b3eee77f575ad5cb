package dev.loraid.autograd.ops;

import dev.loraid.autograd.GradMode;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The hook is the identity for values and gradients, and its action runs once, after both consumers of its output have
 * passed their gradients back and before anything upstream of its input runs backward (the leaf has no gradient yet).
 */
class BackwardHookTest {
    @Test
    void runsOnceBetweenItsConsumersAndItsProducer() {
        try (MemoryScope s = MemoryScope.open()) {
            Var x = Var.leaf(Tensor.of(new float[] {1, 2, 3}, 3));
            List<String> events = new ArrayList<>();
            Var y = x.scale(2);
            Var h = BackwardHook.apply(y, () -> {
                events.add("hook");
                assertNull(x.grad(), "the hook runs before the gradient reaches x");
            });
            assertSame(y.data(), h.data(), "the identity: the same tensor");
            // two consumers: d(3h + h·h)/dh = 3 + 2h
            Var z = h.scale(3).add(BackwardHook.apply(h.mul(h), () -> events.add("square")));
            z.backward(Tensor.of(new float[] {1, 1, 1}, 3));
            assertEquals(List.of("square", "hook"), events);
            // dz/dx = (3 + 2·2x)·2
            assertArrayEquals(new float[] {14, 22, 30}, x.grad().toFloatArray());
        }
    }

    @Test
    void withoutAGraphItIsTheInputItself() {
        Var c = Var.constant(Tensor.of(new float[] {1}, 1));
        assertSame(c, BackwardHook.apply(c, () -> { }));
        try (GradMode.Scope off = GradMode.noGrad()) {
            Var x = Var.leaf(Tensor.of(new float[] {1}, 1));
            assertSame(x, BackwardHook.apply(x, () -> { }));
        }
    }
}
