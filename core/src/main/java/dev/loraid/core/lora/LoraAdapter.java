package dev.loraid.core.lora;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The LoRA branch of one Linear (training.md §2.2–2.3): {@code y = W x + multiplier · scale · up(down(x))} with
 * down [r, in], up [out, r] in fp32 and scale = alpha / r. Dropouts act only while training: module dropout skips the
 * branch, neuron dropout ({@code --network_dropout}) drops elements of {@code down(x)}, rank dropout drops whole rank
 * channels (one mask per sample, shared by its tokens) and rescales by 1/(1 − p). A multiplier of 0 returns the base
 * output itself, so a disabled LoRA leaves the model bit-identical.
 */
public final class LoraAdapter extends AdapterBase {
    /** Dropout probabilities, each in [0, 1). */
    public record Dropouts(double neuron, double rank, double module) {
        public static final Dropouts NONE = new Dropouts(0, 0, 0);

        public Dropouts {
            for (double p : new double[] {neuron, rank, module}) {
                if (!(p >= 0 && p < 1)) {
                    throw new IllegalArgumentException("dropout probabilities must be in [0, 1), got " + p);
                }
            }
        }
    }

    private final Parameter down;
    private final Parameter up;

    public LoraAdapter(String loraName, Parameter down, Parameter up, double alpha, Dropouts dropouts) {
        if (down.shape().rank() != 2 || up.shape().rank() != 2 || up.shape().dim(1) != down.shape().dim(0)) {
            throw new IllegalArgumentException(loraName + ": down " + down.shape() + " and up " + up.shape()
                    + " are not [r, in] and [out, r]");
        }
        super(loraName, alpha, dropouts);
        this.down = down;
        this.up = up;
    }

    @Override
    public Var apply(Var x, Var baseOut) {
        if (off()) {
            return baseOut;
        }
        Var h = Ops.linear(x, down, null);
        double s = scale();
        if (neuronDropout() > 0) {
            h = Ops.dropout(h, neuronDropout());
        }
        if (rankDropout() > 0) {
            long[] maskDims = h.shape().toArray();
            for (int d = h.rank() == 3 ? 1 : 0; d < maskDims.length - 1; d++) {
                maskDims[d] = 1; // one mask per sample, broadcast over its tokens
            }
            Tensor mask = Ops.keepMask(h.data(), Shape.of(maskDims), rankDropout());
            h = h.mul(Var.constant(mask));
            s /= 1 - rankDropout();
        }
        return Ops.linearAddInPlace(baseOut, h, up, multiplier() * s); // the Linear hands its output over (Linear.Adapter)
    }

    public Parameter down() {
        return down;
    }

    public Parameter up() {
        return up;
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        out.put(LoraKeys.Part.DOWN.musubiSuffix(), down);
        out.put(LoraKeys.Part.UP.musubiSuffix(), up);
        return out;
    }

    public int rank() {
        return (int) down.shape().dim(0);
    }

    public double scale() {
        return alpha() / rank();
    }
}
