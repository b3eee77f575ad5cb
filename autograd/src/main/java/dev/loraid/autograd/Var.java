package dev.loraid.autograd;

import dev.loraid.autograd.ops.Add;
import dev.loraid.autograd.ops.Cast;
import dev.loraid.autograd.ops.Div;
import dev.loraid.autograd.ops.Expand;
import dev.loraid.autograd.ops.MatMul;
import dev.loraid.autograd.ops.Mul;
import dev.loraid.autograd.ops.Narrow;
import dev.loraid.autograd.ops.Permute;
import dev.loraid.autograd.ops.Reduce;
import dev.loraid.autograd.ops.Reshape;
import dev.loraid.autograd.ops.Scale;
import dev.loraid.autograd.ops.TensorMath;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * A differentiable value: a {@link Tensor} ({@link #data()}), whether it needs a gradient, the graph node that
 * produced it (null for leaves), and for leaves the accumulated gradient ({@link #grad()}).
 *
 * <p>Gradient dtype: F64 for F64 data (gradient checks), F32 otherwise. A leaf's gradient buffer is allocated
 * on the first backward pass and then accumulated into (PyTorch semantics; {@link #zeroGrad()} clears it).
 * {@link Parameter} gradients live outside any {@link MemoryScope} (they outlive the step); other leaves'
 * gradients come from the current scope.
 */
public class Var {
    private Tensor data;
    private Tensor grad;
    /** The buffer of a gradient cleared by {@link #setGradToNone}, which the next one is written into. */
    private Tensor spareGrad;
    private boolean requiresGrad;
    private final Node node;

    protected Var(Tensor data, boolean requiresGrad, Node node) {
        this.data = data;
        this.requiresGrad = requiresGrad;
        this.node = node;
    }

    /** A constant: no gradient flows into it (inputs, masks, frozen weights). */
    public static Var constant(Tensor data) {
        return new Var(data, false, null);
    }

    /** A leaf that accumulates a gradient (a test input, a recomputed block's detached input). */
    public static Var leaf(Tensor data) {
        return new Var(data, true, null);
    }

    /**
     * The output of an op: records {@code node} when {@link Node#recording} says so for its inputs, else returns
     * a constant (no graph is kept under {@link GradMode#noGrad()}).
     */
    public static Var result(Tensor data, Node node, Var... inputs) {
        return Node.recording(inputs) ? new Var(data, true, node) : constant(data);
    }

    /** An op output that always records its node (for ops whose gradient need is not decided by their inputs). */
    static Var recorded(Tensor data, Node node) {
        return new Var(data, true, node);
    }

    public Tensor data() {
        if (data == null) {
            throw new IllegalStateException("value of shape " + declaredShape() + " was declared but never loaded");
        }
        return data;
    }

    /** The accumulated gradient of a leaf, or null if none has been computed (always null for non-leaves). */
    public Tensor grad() {
        return grad;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    public boolean isLeaf() {
        return node == null;
    }

    /** The op that produced this value, or null for a leaf. */
    public Node node() {
        return node;
    }

    public Shape shape() {
        return data().shape();
    }

    public long size(int dim) {
        return data().size(dim);
    }

    public int rank() {
        return data().rank();
    }

    public DType dtype() {
        return data().dtype();
    }

    /** Same data, cut from the graph: no gradient flows back through the result. */
    public Var detach() {
        return constant(data());
    }

    /** Backpropagates from this scalar (one element) with seed gradient 1. */
    public void backward() {
        Backprop.run(this, 1.0);
    }

    /**
     * Backpropagates from this scalar with seed gradient {@code scale}: {@code 1/k} for gradient accumulation
     * over k micro-batches (what accelerate does, spec training.md §3.3).
     */
    public void backward(double scale) {
        Backprop.run(this, scale);
    }

    /** Backpropagates with an explicit seed gradient of this value's shape. */
    public void backward(Tensor seed) {
        Backprop.run(this, seed);
    }

    /** Sets the accumulated gradient to zero, keeping its buffer (so a training loop does not reallocate it). */
    public void zeroGrad() {
        if (grad != null) {
            grad.backend().fill(grad, 0);
        }
    }

    /**
     * Clears the gradient as PyTorch's {@code zero_grad(set_to_none=True)} does: {@link #grad()} is null until a
     * backward pass writes one, so a value no pass reaches (a module skipped by dropout) has none. The buffer is kept
     * for that pass to write into, so a training loop does not reallocate it.
     */
    public void setGradToNone() {
        if (grad != null) {
            spareGrad = grad;
            grad = null;
        }
    }

    /** Drops the gradient buffer entirely. */
    public void clearGrad() {
        grad = null;
        spareGrad = null;
    }

    // ---- for subclasses and the engine ----

    /** False only for a {@link Parameter#declared} parameter not yet loaded. */
    protected final boolean hasData() {
        return data != null;
    }

    protected void setData(Tensor t) {
        this.data = t;
    }

    protected void setRequiresGrad(boolean requiresGrad) {
        if (node != null) {
            throw new IllegalStateException("requiresGrad can only be changed on a leaf");
        }
        this.requiresGrad = requiresGrad;
    }

    /** Shape for error messages before data exists ({@link Parameter#declared}). */
    protected Shape declaredShape() {
        return data == null ? null : data.shape();
    }

    /** Whether this leaf's gradient buffer must outlive the current memory scope. */
    protected boolean gradOutlivesScope() {
        return false;
    }

    /** Adds {@code g} (this value's shape, any dtype and strides) into the leaf gradient. */
    void accumulateGrad(Tensor g) {
        accumulateGrad(g, gradBuffer());
    }

    /**
     * The buffer this leaf's next gradient goes into: its gradient, or a new unfilled one (in the scope the
     * gradient must live in) that becomes the gradient in {@link #accumulateGrad(Tensor, GradBuffer)}.
     */
    GradBuffer gradBuffer() {
        if (grad != null) {
            return new GradBuffer(grad, false);
        }
        if (spareGrad != null) {
            return new GradBuffer(spareGrad, true);
        }
        DType type = TensorMath.gradType(data().dtype());
        if (gradOutlivesScope()) {
            try (MemoryScope outside = MemoryScope.suspend()) {
                return new GradBuffer(Tensor.empty(data().device(), type, shape().toArray()), true);
            }
        }
        return new GradBuffer(Tensor.empty(data().device(), type, shape().toArray()), true);
    }

    /** Adds {@code g} into the leaf gradient through {@code buf} (from {@link #gradBuffer()}); g may be buf's tensor, already written. */
    void accumulateGrad(Tensor g, GradBuffer buf) {
        if (!g.shape().equals(shape())) {
            throw new IllegalStateException("gradient of shape " + g.shape() + " for a value of shape " + shape());
        }
        Tensor dst = buf.tensor();
        if (g != dst) {
            if (buf.empty()) {
                dst.backend().copy(g, dst);
            } else {
                dst.backend().addScaled(dst, 1.0, g, 1.0, dst);
            }
        }
        grad = dst;
        spareGrad = null;
    }

    // ---- the common ops, as methods (everything else is in Ops) ----

    public Var add(Var other) {
        return Add.apply(this, 1.0, other, 1.0);
    }

    public Var sub(Var other) {
        return Add.apply(this, 1.0, other, -1.0);
    }

    public Var mul(Var other) {
        return Mul.apply(this, other);
    }

    public Var div(Var other) {
        return Div.apply(this, other);
    }

    /** {@code this · factor}. */
    public Var scale(double factor) {
        return Scale.apply(this, factor);
    }

    /** Batched matrix product, {@code [..., M, K] @ [..., K, N]}, batch dimensions broadcast. */
    public Var matmul(Var other) {
        return MatMul.apply(this, other);
    }

    public Var reshape(long... dims) {
        return Reshape.apply(this, dims);
    }

    public Var permute(int... order) {
        return Permute.apply(this, order);
    }

    public Var transpose(int a, int b) {
        return Permute.transpose(this, a, b);
    }

    /** Elements {@code start .. start+length-1} of dimension {@code dim} (a view). */
    public Var narrow(int dim, long start, long length) {
        return Narrow.apply(this, dim, start, length);
    }

    /** {@code n} equal slices of dimension {@code dim} (PyTorch {@code chunk} with a divisible size), as views. */
    public Var[] chunk(int n, int dim) {
        long size = size(dim);
        if (n <= 0 || size % n != 0) {
            throw new IllegalArgumentException("cannot split dimension " + dim + " of " + shape() + " into " + n + " equal chunks");
        }
        Var[] out = new Var[n];
        for (int i = 0; i < n; i++) {
            out[i] = narrow(dim, i * (size / n), size / n);
        }
        return out;
    }

    public Var unsqueeze(int dim) {
        return Reshape.apply(this, data().unsqueeze(dim).shape().toArray());
    }

    public Var squeeze(int dim) {
        return Reshape.apply(this, data().squeeze(dim).shape().toArray());
    }

    /** Broadcasts size-1 dimensions to {@code dims} (a stride-0 view; the backward pass sums them). */
    public Var expand(long... dims) {
        return Expand.apply(this, dims);
    }

    /** Sum of all elements, as a scalar of shape []. */
    public Var sum() {
        return Reduce.sum(this);
    }

    /** Sum over {@code dims}. */
    public Var sum(int[] dims, boolean keepDim) {
        return Reduce.sum(this, dims, keepDim);
    }

    /** Mean of all elements, as a scalar of shape []. */
    public Var mean() {
        return Reduce.mean(this);
    }

    public Var mean(int[] dims, boolean keepDim) {
        return Reduce.mean(this, dims, keepDim);
    }

    /** Cast (a contiguous copy); the gradient is cast back. */
    public Var to(DType type) {
        return Cast.apply(this, type);
    }

    @Override
    public String toString() {
        return "Var[" + (data == null ? "declared " + declaredShape() : data.toString())
            + (requiresGrad ? " requiresGrad" : "") + (node != null ? " from " + node.name() : "") + "]";
    }
}
