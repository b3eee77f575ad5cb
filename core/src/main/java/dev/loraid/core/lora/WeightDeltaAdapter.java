package dev.loraid.core.lora;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Recompute;
import dev.loraid.autograd.Rng;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import java.util.Set;

/**
 * An adapter that builds its whole update ΔW [out, in] from its factors in every forward pass, as upstream's LoHa and
 * LoKr modules do (musubi networks/loha.py, lokr.py; spec training.md §2.10). Module dropout skips the branch; rank
 * dropout drops whole rows of ΔW (one mask per forward, shared by the batch) and rescales by 1/(1 − p); upstream's
 * LoHa/LoKr take no neuron dropout.
 *
 * <p>Departure from upstream's arithmetic, not its function: upstream adds {@code x·ΔWᵀ} to the base output (two GEMMs
 * forward, two for the input gradient); where the layer allows it ({@link #foldedWeight}: an unscaled F64/F32/BF16/F16
 * weight) the update is folded into the weight, {@code W' = W + s·ΔW} in fp32 (fp64 for an fp64 weight), and the layer
 * runs one GEMM each way.
 * The factors' products and ΔW live only while W' is built (a {@link Recompute} block, rebuilt in the backward pass as
 * upstream's HadaWeight recomputes them), so each adapted layer keeps one matrix for its backward pass, not three.
 */
abstract class WeightDeltaAdapter implements NetworkAdapter {
    private static final Set<DType> FOLDABLE = Set.of(DType.F64, DType.F32, DType.BF16, DType.F16);

    private final String loraName;
    private final double alpha;
    private final LoraAdapter.Dropouts dropouts;
    private double multiplier = 1.0;
    private boolean training;

    WeightDeltaAdapter(String loraName, double alpha, LoraAdapter.Dropouts dropouts) {
        this.loraName = loraName;
        this.alpha = alpha;
        this.dropouts = dropouts;
    }

    /** ΔW / scale, [out, in], a function of the trainable factors. */
    abstract Var unscaledDelta();

    /** The factor ΔW carries besides the multiplier. */
    abstract double scale();

    /** One forward pass's draws: the rows rank dropout keeps (null: all) and the factor of ΔW. */
    private record Draw(Tensor keptRows, double factor) {
    }

    /** The draws of this forward pass, or null when the branch is off (multiplier 0, or skipped by module dropout). */
    private Draw draw(long rows) {
        if (multiplier == 0) {
            return null;
        }
        // draws come from the thread's Rng stream, replayed when gradient checkpointing recomputes the block
        if (training && dropouts.module() > 0 && Rng.nextDouble() < dropouts.module()) {
            return null;
        }
        double s = multiplier * scale();
        Tensor keep = null;
        if (training && dropouts.rank() > 0) {
            Tensor like = parameters().values().iterator().next().data();
            keep = Ops.keepMask(like, Shape.of(rows, 1), dropouts.rank());
            s /= 1 - dropouts.rank();
        }
        return new Draw(keep, s);
    }

    private Var delta(Draw d) {
        Var delta = unscaledDelta();
        return d.keptRows() == null ? delta : delta.mul(Var.constant(d.keptRows()));
    }

    @Override
    public Var foldedWeight(Linear layer) {
        Parameter w = layer.weight();
        if (!FOLDABLE.contains(w.data().dtype())) {
            return null;
        }
        Draw d = draw(layer.outFeatures());
        if (d == null) {
            return w;
        }
        DType type = w.data().dtype() == DType.F64 ? DType.F64 : DType.F32;
        return Recompute.apply(layer, in -> Ops.addScaled(w.data().dtype() == type ? w : w.to(type), 1.0, delta(d), d.factor()));
    }

    /** Layers that do not fold (fp8 weights): {@code baseOut + s·x·ΔWᵀ}, as upstream. */
    @Override
    public Var apply(Var x, Var baseOut) {
        Draw d = draw(baseOut.size(-1));
        if (d == null) {
            return baseOut;
        }
        return Ops.linearAddInPlace(baseOut, x, delta(d), d.factor()); // the Linear hands its output over (Linear.Adapter)
    }

    @Override
    public String loraName() {
        return loraName;
    }

    @Override
    public double alpha() {
        return alpha;
    }

    @Override
    public double multiplier() {
        return multiplier;
    }

    @Override
    public void setMultiplier(double multiplier) {
        this.multiplier = multiplier;
    }

    @Override
    public void setTraining(boolean training) {
        this.training = training;
    }
}
