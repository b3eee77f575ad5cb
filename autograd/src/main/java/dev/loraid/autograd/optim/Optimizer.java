package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients. State (moments, step counts) lives outside any memory
 * scope and is keyed by parameter name, so it can be saved and restored for resume ({@link #stateDict()}).
 */
public abstract class Optimizer {
    private final List<ParamGroup> groups;

    protected Optimizer(List<ParamGroup> groups) {
        this.groups = List.copyOf(groups);
        Map<String, String> seen = new LinkedHashMap<>();
        for (ParamGroup g : groups) {
            for (var e : g.params().entrySet()) {
                if (seen.put(e.getKey(), g.name()) != null) {
                    throw new IllegalArgumentException("parameter " + e.getKey() + " is in two optimizer groups");
                }
                if (!e.getValue().requiresGrad()) {
                    throw new IllegalArgumentException("parameter " + e.getKey() + " is frozen (requiresGrad false)");
                }
            }
        }
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /** One update of every parameter that has a gradient; parameters without one are skipped (PyTorch). */
    public abstract void step();

    /**
     * The rate the last {@link #step} applied to group {@code group}, as the run's log reports it: the group's
     * (scheduled) rate unless the optimizer sets its own per parameter ({@link Adafactor} with relative steps).
     */
    public double appliedLr(int group) {
        return groups.get(group).lr();
    }

    /**
     * Puts the parameters where training steps from. A no-op except for schedule-free optimizers
     * ({@link ScheduleFreeAdamW}), whose parameters hold another point between {@link #eval} and this call.
     */
    public void train() {
    }

    /** Puts the parameters at the point to evaluate, sample and save (see {@link #train}); a no-op by default. */
    public void eval() {
    }

    /**
     * Clears every parameter's gradient as PyTorch's {@code optimizer.zero_grad()} does by default (set_to_none): a
     * parameter no backward pass reaches before the next step (an adapter skipped by module dropout) has no gradient
     * and that step leaves it, its moments and its step count alone. The buffers are kept for reuse.
     */
    public void zeroGrad() {
        for (ParamGroup g : groups) {
            g.params().values().forEach(Parameter::setGradToNone);
        }
    }

    /** Optimizer state by name ({@code <param>.<slot>}), for saving with the safetensors writer. */
    public abstract Map<String, Tensor> stateDict();

    /**
     * Restores state saved by {@link #stateDict()}. Every slot of every parameter must be present with the
     * parameter's shape; the error names each missing or mis-shaped key.
     */
    public abstract void loadStateDict(StateSource source);

    /**
     * Reads slot {@code key} of shape {@code shape} from {@code source}, or records why it cannot (missing,
     * mis-shaped) in {@code problems} and returns null.
     */
    protected static Tensor slot(StateSource source, String key, Shape shape, List<String> problems) {
        if (!source.keys().contains(key)) {
            problems.add(key + ": missing");
            return null;
        }
        Tensor t = source.get(key);
        if (!t.shape().equals(shape)) {
            problems.add(key + ": expected " + shape + ", got " + t.shape());
            return null;
        }
        return t;
    }

    protected static void failIfAny(List<String> problems, String what) {
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("cannot load " + what + " state: " + String.join("; ", problems));
        }
    }

    /**
     * Whether {@code p} takes this step: it has a gradient (parameters without one are skipped, as PyTorch does); a
     * parameter other than F32 is refused, naming it.
     */
    protected final boolean steps(String name, Parameter p) {
        if (p.grad() == null) {
            return false;
        }
        if (p.dtype() != DType.F32) {
            throw new IllegalStateException(getClass().getSimpleName() + " updates F32 parameters; " + name + " is " + p.dtype());
        }
        return true;
    }

    /** An I64 scalar outside any memory scope: a count in a state dict. */
    protected static Tensor count(long n) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return Tensor.ofLongs(new long[] {n}, new long[0]);
        }
    }

    /** Puts one parameter's slots (by key suffix, e.g. {@code .exp_avg}) and its update count ({@code .step}) into {@code out}. */
    protected static void putSlots(Map<String, Tensor> out, String name, Map<String, Tensor> slots, long step) {
        slots.forEach((suffix, t) -> out.put(name + suffix, t));
        out.put(name + ".step", count(step));
    }

    /**
     * Copies one parameter's saved slots into {@code slots} (each must have its slot's shape and dtype) and returns its
     * saved update count; -1 with the problems recorded when a slot or the count is missing or mis-shaped.
     */
    protected static long loadSlots(StateSource source, String name, Map<String, Tensor> slots, List<String> problems) {
        Map<String, Tensor> found = new LinkedHashMap<>();
        slots.forEach((suffix, like) -> {
            Tensor t = slot(source, name + suffix, like.shape(), problems);
            if (t != null && t.dtype() != like.dtype()) {
                problems.add(name + suffix + ": expected " + like.dtype() + ", got " + t.dtype());
            } else if (t != null) {
                found.put(suffix, t);
            }
        });
        Tensor step = slot(source, name + ".step", Shape.of(new long[0]), problems);
        if (found.size() != slots.size() || step == null) {
            return -1;
        }
        found.forEach((suffix, t) -> slots.get(suffix).backend().copy(t, slots.get(suffix)));
        return step.getLong();
    }

    /** A persistent F32 tensor (outside any memory scope) of {@code shape}, zero-filled. */
    protected static Tensor persistentZeros(Parameter like) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return Tensor.zeros(like.data().device(), DType.F32, like.shape().toArray());
        }
    }

    /** The parameters with their names, across groups. */
    protected final List<Map.Entry<String, Parameter>> allParams() {
        List<Map.Entry<String, Parameter>> out = new ArrayList<>();
        for (ParamGroup g : groups) {
            out.addAll(g.params().entrySet());
        }
        return out;
    }
}
