package dev.loraid.autograd;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * A leaf owned by a {@link Module}, named by its path there ({@code blocks.0.self_attn.q.weight}). Trainable
 * parameters (LoRA, fp32) accumulate a gradient that outlives the step's {@link MemoryScope}; frozen ones
 * (base weights, any dtype, typically mmapped from a checkpoint) never get one.
 *
 * <p>A parameter may be <em>declared</em> (shape and dtype only, no memory) so that building a 14B model
 * allocates nothing; {@link Module#loadStateDict} then adopts the checkpoint's tensor for it without copying.
 */
public final class Parameter extends Var {
    private final Shape declaredShape;
    private final DType declaredType;

    private Parameter(Tensor data, Shape shape, DType type, boolean requiresGrad) {
        super(data, requiresGrad, null);
        this.declaredShape = shape;
        this.declaredType = type;
    }

    /** A parameter holding {@code data} (which it owns from now on). */
    public static Parameter of(Tensor data, boolean requiresGrad) {
        return new Parameter(data, data.shape(), data.dtype(), requiresGrad);
    }

    /** A trainable parameter holding {@code data}. */
    public static Parameter trainable(Tensor data) {
        return of(data, true);
    }

    /** A frozen parameter without memory yet: shape and dtype only, filled by {@link Module#loadStateDict}. */
    public static Parameter declared(DType type, long... dims) {
        return new Parameter(null, Shape.of(dims), type, false);
    }

    /** A trainable F32 parameter of zeros, allocated outside any memory scope. */
    public static Parameter zeros(long... dims) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return trainable(Tensor.zeros(DType.F32, dims));
        }
    }

    public boolean isLoaded() {
        return hasData();
    }

    /** The shape this parameter was declared with (its data, once set, always has this shape). */
    @Override
    public Shape shape() {
        return declaredShape;
    }

    /** The dtype it was declared with, or of the tensor adopted for it. */
    @Override
    public DType dtype() {
        return hasData() ? data().dtype() : declaredType;
    }

    @Override
    protected Shape declaredShape() {
        return declaredShape;
    }

    /** Freezes or unfreezes this parameter (a frozen one neither gets a gradient nor is updated). */
    public Parameter requiresGrad(boolean value) {
        setRequiresGrad(value);
        if (!value) {
            clearGrad();
        }
        return this;
    }

    /**
     * Replaces the data by {@code t} without copying (adopting an mmapped checkpoint tensor). The shape must
     * match; the dtype may differ only for a frozen parameter (a trainable one keeps its dtype: use
     * {@link #copyFrom}).
     */
    public void adopt(Tensor t) {
        if (!t.shape().equals(declaredShape)) {
            throw new IllegalArgumentException("parameter of shape " + declaredShape + " cannot take a tensor of shape " + t.shape());
        }
        if (requiresGrad() && hasData() && t.dtype() != data().dtype()) {
            throw new IllegalArgumentException("trainable parameter of dtype " + data().dtype() + " cannot adopt a "
                + t.dtype() + " tensor; copy into it instead");
        }
        setData(t);
    }

    /**
     * Copies (and casts) {@code t} into the existing data, in place (loading trainable weights, resuming). A
     * declared parameter first gets its own memory, in its declared dtype, outside any memory scope.
     */
    public void copyFrom(Tensor t) {
        if (!t.shape().equals(declaredShape)) {
            throw new IllegalArgumentException("parameter of shape " + declaredShape + " cannot take a tensor of shape " + t.shape());
        }
        if (!hasData()) {
            try (MemoryScope outside = MemoryScope.suspend()) {
                setData(Tensor.empty(t.device(), declaredType, declaredShape.toArray()));
            }
        }
        data().backend().copy(t, data());
    }

    /**
     * Moves the data to {@code device} in its dtype (a frozen BF16/FP8 weight stays BF16/FP8), outside any memory
     * scope; the gradient, if any, is dropped (move before training, as the optimizer state lives on one device).
     * A no-op when the data is already there or not loaded: a mapped CPU view stays the same view.
     */
    public Parameter moveTo(Device device) {
        if (hasData() && !data().device().equals(device)) {
            try (MemoryScope outside = MemoryScope.suspend()) {
                setData(data().to(device));
            }
            clearGrad();
        }
        return this;
    }

    /**
     * Drops the data (a frozen parameter is then as if declared: shape and dtype only) and returns it: block swap's
     * eviction (training.md §3.5), which keeps the host copy elsewhere. Any use before the next {@link #adopt} fails
     * saying the value was never loaded.
     */
    public Tensor release() {
        if (requiresGrad()) {
            throw new IllegalStateException("a trainable parameter cannot be released (only frozen weights are swapped)");
        }
        Tensor t = data();
        setData(null);
        return t;
    }

    @Override
    protected boolean gradOutlivesScope() {
        return true;
    }
}
