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
 * An optimizer whose whole state is, per parameter, a few tensors and an update count (PyTorch's per-parameter
 * {@code state[p]}), saved as {@code <param><suffix>} and {@code <param>.step}: {@link AdamW} and {@link Adafactor}.
 * A parameter without a saved {@code .step} was not updated before the save and starts fresh on resume.
 *
 * @param <S> one parameter's state
 */
abstract class SlottedOptimizer<S extends SlottedOptimizer.Slots> extends Optimizer {
    private final Map<String, S> state = new HashMap<>();

    /** One parameter's tensors by key suffix (e.g. {@code .exp_avg}) and its update count. */
    abstract static class Slots {
        long step;

        abstract Map<String, Tensor> slots();
    }

    SlottedOptimizer(List<ParamGroup> groups) {
        super(groups);
    }

    /**
     * Updates every parameter that has a gradient, group by group, after counting the update in its state (PyTorch's
     * per-parameter step, which the first update makes 1).
     */
    @Override
    public final void step() {
        List<ParamGroup> groups = groups();
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup g = groups.get(gi);
            boolean first = true;
            for (var e : g.params().entrySet()) {
                Parameter p = e.getValue();
                if (!steps(e.getKey(), p)) {
                    continue;
                }
                S s = state(e.getKey(), p);
                s.step++;
                update(gi, g, p, s, first);
                first = false;
            }
        }
    }

    /** One parameter's update; {@code first} for the first parameter of group {@code group} that has a gradient. */
    abstract void update(int group, ParamGroup g, Parameter p, S s, boolean first);

    /** Zero state for {@code p} on its device, with the slots this optimizer's settings keep for it. */
    abstract S fresh(Parameter p);

    /** The optimizer's name in errors. */
    String displayName() {
        return getClass().getSimpleName();
    }

    /** Refuses a saved parameter's state made by another kind of optimizer before its slots are read; none by default. */
    void checkSaved(StateSource source, String name, Parameter p) {
    }

    /** {@code name}'s state, made fresh on its first step. */
    private S state(String name, Parameter p) {
        return state.computeIfAbsent(name, k -> fresh(p));
    }

    /** The number of updates parameter {@code name} has received (0 before its first). */
    public long stepCount(String name) {
        S s = state.get(name);
        return s == null ? 0 : s.step;
    }

    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : allParams()) {
            S s = state.get(e.getKey());
            if (s != null) {
                putSlots(out, e.getKey(), s.slots(), s.step);
            }
        }
        return out;
    }

    /** Every slot this run keeps for a saved parameter must be there with its shape and dtype; errors name each key. */
    @Override
    public void loadStateDict(StateSource source) {
        List<String> problems = new ArrayList<>();
        Map<String, S> loaded = new HashMap<>();
        for (var e : allParams()) {
            String n = e.getKey();
            if (!source.keys().contains(n + ".step")) {
                continue;
            }
            checkSaved(source, n, e.getValue());
            S s = fresh(e.getValue());
            s.step = loadSlots(source, n, s.slots(), problems);
            if (s.step >= 0) {
                loaded.put(n, s);
            }
        }
        failIfAny(problems, displayName());
        state.clear();
        state.putAll(loaded);
    }
}
