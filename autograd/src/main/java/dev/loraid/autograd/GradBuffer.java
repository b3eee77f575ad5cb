package dev.loraid.autograd;

import dev.loraid.tensor.Tensor;

/**
 * A contiguous gradient buffer that the reverse pass owns and offers a node for one input (of that input's shape,
 * in its gradient dtype): a leaf's gradient, or the running sum of a value that several ops consume. The node may
 * write its gradient for the input straight into it, overwriting when {@link #empty()} and adding otherwise (a
 * GEMM's beta = 1), and return {@link #tensor()} itself: the pass then neither copies nor adds that gradient,
 * which would stream the whole buffer through memory once more.
 */
public record GradBuffer(Tensor tensor, boolean empty) {
    /** The GEMM beta that writes a gradient into this buffer: 0 overwrites its (unfilled) contents, 1 adds. */
    public double beta() {
        return empty ? 0.0 : 1.0;
    }
}
