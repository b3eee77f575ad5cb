package dev.loraid.core.lora;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LoHa (musubi networks/loha.py, after LyCORIS): {@code ΔW = (α/r) · (w1a·w1b) ⊙ (w2a·w2b)} with w1a, w2a [out, r] and
 * w1b, w2b [r, in]. Trained from w1a ~ N(0, 0.1²), w1b and w2b ~ N(0, 1), w2a = 0, so ΔW starts at zero.
 */
public final class LohaAdapter extends WeightDeltaAdapter {
    private final Parameter w1a;
    private final Parameter w1b;
    private final Parameter w2a;
    private final Parameter w2b;

    public LohaAdapter(String loraName, Parameter w1a, Parameter w1b, Parameter w2a, Parameter w2b, double alpha,
            LoraAdapter.Dropouts dropouts) {
        super(loraName, alpha, dropouts);
        long out = w1a.shape().dim(0);
        long rank = w1a.shape().dim(1);
        long in = w1b.shape().dim(1);
        for (Parameter p : new Parameter[] {w1a, w1b, w2a, w2b}) {
            if (p.shape().rank() != 2) {
                throw new IllegalArgumentException(loraName + ": LoHa factors must be matrices, got " + p.shape());
            }
        }
        if (w1b.shape().dim(0) != rank || !w2a.shape().equals(w1a.shape()) || !w2b.shape().equals(w1b.shape())) {
            throw new IllegalArgumentException(loraName + ": LoHa factors " + w1a.shape() + ", " + w1b.shape() + ", "
                    + w2a.shape() + ", " + w2b.shape() + " are not [" + out + ", r], [r, " + in + "] twice");
        }
        this.w1a = w1a;
        this.w1b = w1b;
        this.w2a = w2a;
        this.w2b = w2b;
    }

    public int rank() {
        return (int) w1b.shape().dim(0);
    }

    @Override
    double scale() {
        return alpha() / rank();
    }

    @Override
    Var unscaledDelta(Var[] f) {
        return f[0].matmul(f[1]).mul(f[2].matmul(f[3])); // w1a·w1b ⊙ w2a·w2b
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        out.put(".hada_w1_a", w1a);
        out.put(".hada_w1_b", w1b);
        out.put(".hada_w2_a", w2a);
        out.put(".hada_w2_b", w2b);
        return out;
    }
}
