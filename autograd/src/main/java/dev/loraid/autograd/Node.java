package dev.loraid.autograd;

import dev.loraid.tensor.Tensor;

/**
 * One recorded operation of the graph: its inputs and what its backward pass needs. Each op class in
 * {@code dev.loraid.autograd.ops} holds its forward ({@code apply}) and its backward side by side.
 * A node is used once: a second backward pass through it fails instead of reading released activations.
 */
public abstract class Node {
    private final Var[] inputs;
    private boolean used;

    /** @param inputs the op's differentiable inputs, in the order {@link #backward} returns their gradients; may hold nulls */
    protected Node(Var... inputs) {
        this.inputs = inputs.clone();
    }

    /**
     * Gradients of the loss with respect to each input, given the gradient {@code dOut} of the op's output.
     * Entry i may be null when input i does not require a gradient ({@link #needs}). A returned gradient has
     * exactly the input's shape and is never written to afterwards, so it may be a view of {@code dOut}.
     */
    protected abstract Tensor[] backward(Tensor dOut);

    /**
     * As {@link #backward(Tensor)}, with buffers the pass offers for some inputs ({@code into[i]} null elsewhere):
     * a node may write input i's gradient into {@code into[i]} (see {@link GradBuffer}) and return its tensor.
     * Nodes whose gradients are fresh products (matmuls) override this; the default ignores the offers.
     */
    protected Tensor[] backward(Tensor dOut, GradBuffer[] into) {
        return backward(dOut);
    }

    /** Whether input i needs a gradient. */
    protected final boolean needs(int i) {
        return inputs[i] != null && inputs[i].requiresGrad();
    }

    /** The op's name in error messages and graph dumps. */
    public String name() {
        return getClass().getSimpleName();
    }

    final Var[] inputs() {
        return inputs;
    }

    /** Runs {@link #backward} once; a second pass over the same graph is an error (its saved tensors may be gone). */
    final Tensor[] runBackward(Tensor dOut, GradBuffer[] into) {
        if (used) {
            throw new IllegalStateException(name() + ": backward through a graph that was already backpropagated; "
                + "run the forward pass again");
        }
        used = true;
        return backward(dOut, into);
    }

    /** Whether any of {@code inputs} requires a gradient while grad mode is on: only then is a node recorded. */
    public static boolean recording(Var... inputs) {
        if (!GradMode.isEnabled()) {
            return false;
        }
        for (Var v : inputs) {
            if (v != null && v.requiresGrad()) {
                return true;
            }
        }
        return false;
    }
}
