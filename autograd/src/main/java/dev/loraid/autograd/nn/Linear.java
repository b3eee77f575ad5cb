package dev.loraid.autograd.nn;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;

/**
 * {@code y = x @ weightᵀ + bias}, weight [out, in], bias [out] or none (state-dict keys {@code weight},
 * {@code bias}). An {@link Adapter} may be attached to add to the output without changing the module's names
 * (how LoRA patches a base Linear, spec training.md §2.3).
 */
public class Linear extends Module implements Layer {
    /**
     * Adds to a Linear's output: {@code y = adapter(x, base(x))}. The adapter owns {@code baseOut}: the Linear
     * reads it no more and the op that made it keeps no copy for its backward pass, so the adapter may add into its
     * memory ({@link dev.loraid.autograd.Ops#linearAddInPlace}). Subclasses that compute the base differently
     * must keep that promise.
     */
    public interface Adapter {
        Var apply(Var x, Var baseOut);

        /**
         * The weight to multiply by instead of the layer's own, the adapter's update folded in — or null (the default)
         * to add the update to the base output through {@link #apply}. Asked once per forward pass, before the base
         * product; a layer that cannot take a replaced weight (e.g. one with fp8 scales) does not ask. An adapter whose
         * update is a whole matrix (LoHa, LoKr) saves a GEMM forward and one for the input gradient this way.
         */
        default Var foldedWeight(Linear layer) {
            return null;
        }

        /** Whether the adapter holds weights that require a gradient (it is then trained through this layer). */
        default boolean trainable() {
            return false;
        }
    }

    private final Parameter weight;
    private final Parameter bias;
    private Adapter adapter;

    public Linear(Parameter weight, Parameter bias) {
        if (weight.shape().rank() != 2 || (bias != null && (bias.shape().rank() != 1 || bias.shape().dim(0) != weight.shape().dim(0)))) {
            throw new IllegalArgumentException("linear weight " + weight.shape() + " / bias "
                + (bias == null ? "none" : bias.shape()) + ": expected [out, in] and [out]");
        }
        this.weight = registerParameter("weight", weight);
        this.bias = bias == null ? null : registerParameter("bias", bias);
    }

    /** A trainable F32 Linear with PyTorch's default init, from stream {@code seed} (bias from stream seed+1). */
    public static Linear trainable(long in, long out, boolean bias, long seed) {
        return new Linear(Init.kaimingUniform(in, seed, out, in), bias ? Init.kaimingUniform(in, seed + 1, out) : null);
    }

    /** A frozen Linear without memory: its weights come from {@link Module#loadStateDict} in their file dtype. */
    public static Linear declared(long in, long out, boolean bias, DType type) {
        return new Linear(Parameter.declared(type, out, in), bias ? Parameter.declared(type, out) : null);
    }

    @Override
    public Var forward(Var x) {
        Var folded = adapter == null ? null : adapter.foldedWeight(this);
        if (folded != null) {
            return Ops.linear(x, folded, bias);
        }
        Var y = Ops.linear(x, weight, bias);
        return adapter == null ? y : adapter.apply(x, y);
    }

    public Parameter weight() {
        return weight;
    }

    /**
     * The weight as the dense [out, in] matrix the layer multiplies by: {@link #weight()} itself here; a subclass that
     * stores it quantised with scales gives it dequantised (what an adapter folds its update into).
     */
    public Var denseWeight() {
        return weight;
    }

    /** The bias, or null. */
    public Parameter bias() {
        return bias;
    }

    public long inFeatures() {
        return weight.shape().dim(1);
    }

    public long outFeatures() {
        return weight.shape().dim(0);
    }

    /** Attaches (or with null, removes) the adapter. */
    public void setAdapter(Adapter adapter) {
        this.adapter = adapter;
    }

    public Adapter adapter() {
        return adapter;
    }

    @Override
    protected boolean carriesTrainableAdapter() {
        return adapter != null && adapter.trainable();
    }
}
