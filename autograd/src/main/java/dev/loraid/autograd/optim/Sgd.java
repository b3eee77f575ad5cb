package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch's SGD (no dampening, optional Nesterov): {@code d = g + wd·p}; with momentum μ,
 * {@code buf = d} on the first step, then {@code buf = μ·buf + d}; {@code d = nesterov ? d + μ·buf : buf};
 * {@code p ← p − lr·d}. State slot: {@code momentum_buffer}.
 */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final boolean nesterov;
    private final Map<String, Tensor> buffers = new HashMap<>();

    public Sgd(List<ParamGroup> groups, double momentum, boolean nesterov) {
        super(groups);
        if (momentum < 0 || (nesterov && momentum == 0)) {
            throw new IllegalArgumentException("SGD: momentum must be ≥ 0 (and > 0 for Nesterov), got " + momentum);
        }
        this.momentum = momentum;
        this.nesterov = nesterov;
    }

    public Sgd(Map<String, Parameter> params, double lr, double momentum) {
        this(List.of(new ParamGroup("default", params, lr, 0.0)), momentum, false);
    }

    @Override
    public void step() {
        for (ParamGroup g : groups()) {
            for (var e : g.params().entrySet()) {
                Parameter p = e.getValue();
                Tensor grad = p.grad();
                if (grad == null) {
                    continue;
                }
                Tensor w = p.data();
                var be = w.backend();
                Tensor d = grad;
                if (g.weightDecay() != 0) {
                    d = Tensor.empty(w.device(), grad.dtype(), w.shape().toArray());
                    be.addScaled(grad, 1.0, w, g.weightDecay(), d);
                }
                if (momentum != 0) {
                    Tensor buf = buffers.get(e.getKey());
                    if (buf == null) {
                        buf = persistentZeros(p);
                        be.copy(d, buf);
                        buffers.put(e.getKey(), buf);
                    } else {
                        be.addScaled(buf, momentum, d, 1.0, buf);
                    }
                    if (nesterov) {
                        Tensor n = Tensor.empty(w.device(), grad.dtype(), w.shape().toArray());
                        be.addScaled(d, 1.0, buf, momentum, n);
                        d = n;
                    } else {
                        d = buf;
                    }
                }
                be.addScaled(w, 1.0, d, -g.lr(), w);
            }
        }
    }

    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : allParams()) {
            Tensor buf = buffers.get(e.getKey());
            if (buf != null) {
                out.put(e.getKey() + ".momentum_buffer", buf);
            }
        }
        return out;
    }

    @Override
    public void loadStateDict(StateSource source) {
        List<String> problems = new ArrayList<>();
        Map<String, Tensor> loaded = new HashMap<>();
        for (var e : allParams()) {
            String key = e.getKey() + ".momentum_buffer";
            if (!source.keys().contains(key)) {
                continue;
            }
            Tensor t = slot(source, key, e.getValue().shape(), problems);
            if (t != null) {
                Tensor buf = persistentZeros(e.getValue());
                buf.backend().copy(t, buf);
                loaded.put(e.getKey(), buf);
            }
        }
        failIfAny(problems, "SGD");
        buffers.clear();
        buffers.putAll(loaded);
    }
}
