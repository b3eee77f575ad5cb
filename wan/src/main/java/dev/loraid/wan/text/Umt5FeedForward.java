package dev.loraid.wan.text;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Activation;
import dev.loraid.autograd.nn.Sequential;
import dev.loraid.wan.WanLinear;

/**
 * {@code blocks.i.ffn} (upstream {@code T5FeedForward}): {@code fc2(fc1(x) · gelu_tanh(gate(x)))}, the gated GELU of
 * T5 v1.1; {@code gate} is a Sequential (Linear, GELU) so its weight is {@code gate.0.weight}. No biases.
 */
final class Umt5FeedForward extends Module {
    private final Sequential gate;
    private final WanLinear fc1;
    private final WanLinear fc2;

    Umt5FeedForward(Umt5Config c) {
        this.gate = registerModule("gate", Sequential.of(WanLinear.withoutBias(c.dim(), c.ffnDim()), Activation.gelu()));
        this.fc1 = registerModule("fc1", WanLinear.withoutBias(c.dim(), c.ffnDim()));
        this.fc2 = registerModule("fc2", WanLinear.withoutBias(c.ffnDim(), c.dim()));
    }

    /** x [L, dim] → [L, dim]. */
    Var forward(Var x) {
        return fc2.forward(fc1.forward(x).mul(gate.forward(x)));
    }
}
