package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch's default AdamW (spec training.md §3.1: betas (0.9, 0.999), eps 1e-8, weight decay 0.01, no amsgrad):
 * decoupled decay {@code p ← p·(1 − lr·wd)}, then the bias-corrected Adam step, one fused backend kernel per
 * parameter. The step count is kept per parameter, as PyTorch does. State slots: {@code exp_avg},
 * {@code exp_avg_sq} (F32, the parameter's shape) and {@code step} (I64 scalar).
 */
public final class AdamW extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final Map<String, State> state = new HashMap<>();

    private static final class State {
        final Tensor m;
        final Tensor v;
        long step;

        State(Tensor m, Tensor v) {
            this.m = m;
            this.v = v;
        }
    }

    public AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        super(groups);
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 || eps < 0) {
            throw new IllegalArgumentException("AdamW: betas must be in [0, 1) and eps ≥ 0, got (" + beta1 + ", "
                + beta2 + "), " + eps);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /** One group with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public AdamW(Map<String, Parameter> params, double lr) {
        this(List.of(new ParamGroup("default", params, lr, 0.01)), 0.9, 0.999, 1e-8);
    }

    @Override
    public void step() {
        for (ParamGroup g : groups()) {
            for (var e : g.params().entrySet()) {
                Parameter p = e.getValue();
                if (p.grad() == null) {
                    continue;
                }
                if (p.dtype() != DType.F32) {
                    throw new IllegalStateException("AdamW updates F32 parameters; " + e.getKey() + " is " + p.dtype());
                }
                State s = state.computeIfAbsent(e.getKey(), k -> new State(persistentZeros(p), persistentZeros(p)));
                s.step++;
                p.data().backend().adamwUpdate(p.data(), p.grad(), s.m, s.v, g.lr(), beta1, beta2, eps,
                    g.weightDecay(), s.step);
            }
        }
    }

    /** The number of updates parameter {@code name} has received (0 before its first). */
    public long stepCount(String name) {
        State s = state.get(name);
        return s == null ? 0 : s.step;
    }

    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : allParams()) {
            State s = state.get(e.getKey());
            if (s != null) {
                out.put(e.getKey() + ".exp_avg", s.m);
                out.put(e.getKey() + ".exp_avg_sq", s.v);
                try (MemoryScope outside = MemoryScope.suspend()) {
                    out.put(e.getKey() + ".step", Tensor.ofLongs(new long[] {s.step}, new long[0]));
                }
            }
        }
        return out;
    }

    /** Parameters without any saved slot start fresh (they had not been updated when the state was saved). */
    @Override
    public void loadStateDict(StateSource source) {
        List<String> problems = new ArrayList<>();
        Map<String, State> loaded = new HashMap<>();
        for (var e : allParams()) {
            String n = e.getKey();
            if (!source.keys().contains(n + ".step")) {
                continue;
            }
            Shape shape = e.getValue().shape();
            Tensor m = slot(source, n + ".exp_avg", shape, problems);
            Tensor v = slot(source, n + ".exp_avg_sq", shape, problems);
            Tensor step = slot(source, n + ".step", Shape.of(new long[0]), problems);
            if (m != null && v != null && step != null) {
                State s = new State(persistentZeros(e.getValue()), persistentZeros(e.getValue()));
                s.m.backend().copy(m, s.m);
                s.v.backend().copy(v, s.v);
                s.step = step.getLong();
                loaded.put(n, s);
            }
        }
        failIfAny(problems, "AdamW");
        state.clear();
        state.putAll(loaded);
    }
}
