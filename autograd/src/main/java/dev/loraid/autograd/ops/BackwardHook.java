package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Tensor;

/**
 * The identity, with an action run when the backward pass reaches it: after every consumer of the output has passed
 * its gradient back, before anything that produced the input runs backward. Block swap (training.md §3.5) uses it to
 * learn when a block's backward starts (a hook on its output) and ends (a hook on its input).
 */
public final class BackwardHook extends Node {
    private final Runnable action;

    private BackwardHook(Var x, Runnable action) {
        super(x);
        this.action = action;
    }

    /** {@code x} itself when no graph is recorded through it (the action then never runs), else a hooked identity. */
    public static Var apply(Var x, Runnable action) {
        return Node.recording(x) ? Var.result(x.data(), new BackwardHook(x, action), x) : x;
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        action.run();
        return new Tensor[] {g};
    }
}
