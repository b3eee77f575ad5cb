package dev.loraid.core.lora;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Recompute;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * An adapter that builds its whole update ΔW [out, in] from its factors in every forward pass, as upstream's LoHa and
 * LoKr modules do (musubi networks/loha.py, lokr.py; spec training.md §2.10). Module dropout skips the branch; rank
 * dropout drops whole rows of ΔW (one mask per forward, shared by the batch) and rescales by 1/(1 − p); upstream's
 * LoHa/LoKr take no neuron dropout.
 *
 * <p>Departure from upstream's arithmetic, not its function: upstream adds {@code x·ΔWᵀ} to the base output (two GEMMs
 * forward, two for the input gradient); the layers of a model ({@link Linear}, {@code WanLinear}) ask for the update
 * folded into their dense weight ({@link #foldedWeight}: {@code W' = W + s·ΔW} in fp32, fp64 for an fp64 weight, fp8
 * weights dequantised first) and run one GEMM each way. Either way the factors' products and ΔW live only while they
 * are used (a {@link Recompute} block, rebuilt in the backward pass as upstream's HadaWeight recomputes them), so each
 * adapted layer keeps one matrix for its backward pass, not three.
 */
abstract class WeightDeltaAdapter extends AdapterBase {
    WeightDeltaAdapter(String loraName, double alpha, LoraAdapter.Dropouts dropouts) {
        super(loraName, alpha, dropouts);
    }

    /** ΔW / scale, [out, in], from the factors in {@link #parameters()}'s order. */
    abstract Var unscaledDelta(Var[] factors);

    /** The factor ΔW carries besides the multiplier. */
    abstract double scale();

    /** One forward pass's draws: the rows rank dropout keeps (null: all) and the factor of ΔW. */
    private record Draw(Tensor keptRows, double factor) {
    }

    /** The draws of this forward pass, or null when the branch is off (multiplier 0, or skipped by module dropout). */
    private Draw draw(long rows) {
        if (off()) {
            return null;
        }
        double s = multiplier() * scale();
        Tensor keep = null;
        if (rankDropout() > 0) {
            Tensor like = parameters().values().iterator().next().data();
            keep = Ops.keepMask(like, Shape.of(rows, 1), rankDropout());
            s /= 1 - rankDropout();
        }
        return new Draw(keep, s);
    }

    /**
     * {@code base + factor·ΔW} (ΔW with the dropped rows zeroed), built in a recomputed block from the factors: the
     * products and ΔW are freed as soon as the result is made, and rebuilt in the backward pass (upstream's HadaWeight
     * recomputes them the same way).
     */
    private Var built(Linear base, Draw d) {
        return Recompute.apply(in -> {
            Var delta = unscaledDelta(in);
            if (d.keptRows() != null) {
                delta = delta.mul(Var.constant(d.keptRows()));
            }
            if (base == null) {
                return delta.scale(d.factor());
            }
            // fp8 and half weights are widened for the sum; an fp64 weight (the gradient checks) keeps its precision
            Var w = base.denseWeight();
            DType type = w.dtype() == DType.F64 ? DType.F64 : DType.F32;
            return Ops.addScaled(w.dtype() == type ? w : w.to(type), 1.0, delta, d.factor());
        }, parameters().values().toArray(Var[]::new));
    }

    @Override
    public Var foldedWeight(Linear layer) {
        Draw d = draw(layer.outFeatures());
        return d == null ? layer.denseWeight() : built(layer, d);
    }

    /** For a layer that does not ask for a folded weight: {@code baseOut + x·(s·ΔW)ᵀ}, as upstream. */
    @Override
    public Var apply(Var x, Var baseOut) {
        Draw d = draw(baseOut.size(-1));
        if (d == null) {
            return baseOut;
        }
        return Ops.linearAddInPlace(baseOut, x, built(null, d), 1.0); // the Linear hands its output over (Linear.Adapter)
    }
}
