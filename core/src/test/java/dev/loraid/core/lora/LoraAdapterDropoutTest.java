package dev.loraid.core.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.autograd.Recompute;
import dev.loraid.autograd.Module;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Rng;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Init;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * LoRA dropouts inside a gradient-checkpointed block: the recomputation must draw the same masks as the first
 * forward pass, or the LoRA gradients are wrong (spec training.md §2.3 dropouts; design.md checkpointing).
 */
class LoraAdapterDropoutTest {
    private static final int IN = 8;
    private static final int RANK = 4;
    private static final int TOKENS = 5;

    /** Two frozen Linears, each with a trainable LoRA branch; registers the LoRA weights so checkpointing sees them. */
    private static final class TwoLayers extends Module {
        final Linear first;
        final Linear second;
        final List<LoraAdapter> adapters;

        TwoLayers(LoraAdapter.Dropouts dropouts) {
            first = registerModule("first", frozenLinear(1));
            second = registerModule("second", frozenLinear(2));
            adapters = List.of(adapter(first, "a", 3, dropouts), adapter(second, "b", 5, dropouts));
        }

        private Linear frozenLinear(long seed) {
            return new Linear(Parameter.of(Init.uniform(-0.5, 0.5, seed, IN, IN).data(), false), null);
        }

        private LoraAdapter adapter(Linear l, String name, long seed, LoraAdapter.Dropouts dropouts) {
            Parameter down = registerParameter(name + "_down", Init.uniform(-0.5, 0.5, seed, RANK, IN));
            Parameter up = registerParameter(name + "_up", Init.uniform(-0.5, 0.5, seed + 1, IN, RANK));
            LoraAdapter a = new LoraAdapter(name, down, up, 2.0, dropouts);
            a.setTraining(true);
            l.setAdapter(a);
            return a;
        }

        Var forward(Var x) {
            return second.forward(first.forward(x));
        }

        double[][] grads() {
            return adapters.stream()
                .flatMap(a -> java.util.stream.Stream.of(a.down(), a.up()))
                .map(p -> p.grad() == null ? new double[(int) p.shape().numel()] : p.grad().toDoubleArray())
                .toArray(double[][]::new);
        }
    }

    private static double[][] gradients(LoraAdapter.Dropouts dropouts, boolean checkpoint) {
        return gradients(dropouts, checkpoint, 1234);
    }

    /** The LoRA weights' gradients of Σy² (zeros for a branch that module dropout skipped). */
    private static double[][] gradients(LoraAdapter.Dropouts dropouts, boolean checkpoint, long seed) {
        TwoLayers net = new TwoLayers(dropouts);
        Tensor input = Init.uniform(-1, 1, 11, TOKENS, IN).data();
        Rng.seed(seed);
        try (MemoryScope step = MemoryScope.open()) {
            Var x = Var.constant(input);
            Var y = checkpoint ? Recompute.apply(net, in -> net.forward(in[0]), x) : net.forward(x);
            if (y.requiresGrad()) { // false when module dropout skipped both branches of a plain run
                y.mul(y).sum().backward();
            }
        }
        return net.grads();
    }

    @Test
    void checkpointed_recomputation_draws_the_same_dropout_masks() {
        LoraAdapter.Dropouts dropouts = new LoraAdapter.Dropouts(0.3, 0.25, 0.0);
        double[][] plain = gradients(dropouts, false);
        double[][] checkpointed = gradients(dropouts, true);
        for (int i = 0; i < plain.length; i++) {
            assertArrayEquals(plain[i], checkpointed[i], 0.0, "LoRA parameter " + i);
        }
        // the dropouts really acted: without them the gradients differ
        double[][] none = gradients(LoraAdapter.Dropouts.NONE, false);
        assertFalse(Arrays.deepEquals(plain, none), "dropout masks changed nothing");
    }

    @Test
    void module_dropout_decision_is_replayed_too() {
        // module dropout skips a branch in half of the calls; over several seeds both outcomes occur, and the
        // checkpointed run must always agree with the plain one
        LoraAdapter.Dropouts dropouts = new LoraAdapter.Dropouts(0, 0, 0.5);
        int skipped = 0;
        int kept = 0;
        for (long seed = 0; seed < 8; seed++) {
            double[][] plain = gradients(dropouts, false, seed);
            double[][] checkpointed = gradients(dropouts, true, seed);
            for (int i = 0; i < plain.length; i++) {
                assertArrayEquals(plain[i], checkpointed[i], 0.0, "seed " + seed + ", LoRA parameter " + i);
            }
            if (Arrays.stream(plain[1]).allMatch(g -> g == 0)) {
                skipped++;
            } else {
                kept++;
            }
        }
        assertTrue(skipped > 0 && kept > 0, "module dropout never varied: skipped " + skipped + ", kept " + kept);
    }
}
