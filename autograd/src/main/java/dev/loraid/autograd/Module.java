package dev.loraid.autograd;

import dev.loraid.tensor.Backends;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A node of the model tree, PyTorch style: parameters, buffers (saved, not trained: e.g. a LoRA's alpha) and
 * child modules, each registered under a name; full names are dotted paths ({@code blocks.0.self_attn.q.weight}),
 * the same strings as the checkpoint keys (design.md "Conventions": one source of truth for names).
 *
 * <pre>{@code
 * class Block extends Module {
 *     final Linear q = registerModule("q", Linear.trainable(dim, dim, true, seed));
 * }
 * }</pre>
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    protected final <P extends Parameter> P registerParameter(String name, P p) {
        checkName(name);
        parameters.put(name, p);
        return p;
    }

    protected final <M extends Module> M registerModule(String name, M m) {
        checkName(name);
        children.put(name, m);
        return m;
    }

    /** Registers (or replaces) a buffer: saved in the state dict, never trained. */
    protected final Tensor registerBuffer(String name, Tensor t) {
        if (!buffers.containsKey(name)) {
            checkName(name);
        }
        buffers.put(name, t);
        return t;
    }

    protected final Tensor buffer(String name) {
        return buffers.get(name);
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("module member name '" + name + "' must be non-empty and contain no '.'");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already registered in " + getClass().getSimpleName());
        }
    }

    /** Direct children by name, in registration order. */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter below this module by dotted name, in registration order (depth first). */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        visit("", (prefix, m) -> m.parameters.forEach((n, p) -> out.put(prefix + n, p)));
        return out;
    }

    /** The parameters that require a gradient (what an optimizer updates). */
    public Map<String, Parameter> trainableParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        namedParameters().forEach((n, p) -> {
            if (p.requiresGrad()) {
                out.put(n, p);
            }
        });
        return out;
    }

    /**
     * Whether anything below this module is trained: a parameter that requires a gradient, or a trainable adapter
     * attached to a layer (LoRA weights are not parameters of the model they adapt, training.md §2.6).
     */
    public boolean hasTrainableWeights() {
        return namedModules().values().stream().anyMatch(m -> m.carriesTrainableAdapter()
                || m.parameters.values().stream().anyMatch(Parameter::requiresGrad));
    }

    /** Overridden by layers that can carry an adapter with trainable weights (see {@link #hasTrainableWeights()}). */
    protected boolean carriesTrainableAdapter() {
        return false;
    }

    /** This module (under "") and every descendant by dotted path. */
    public Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        visit("", (prefix, m) -> out.put(prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1), m));
        return out;
    }

    private interface Visitor {
        void accept(String prefix, Module m);
    }

    private void visit(String prefix, Visitor v) {
        v.accept(prefix, this);
        children.forEach((n, c) -> c.visit(prefix + n + ".", v));
    }

    /** Parameters (those with data) and buffers by dotted name: what a checkpoint of this module holds. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        visit("", (prefix, m) -> {
            m.parameters.forEach((n, p) -> {
                if (p.isLoaded()) {
                    out.put(prefix + n, p.data());
                }
            });
            m.buffers.forEach((n, b) -> out.put(prefix + n, b));
        });
        return out;
    }

    /**
     * Loads parameters and buffers by dotted name. Frozen parameters adopt the source tensor as is (no copy: an
     * mmapped BF16/FP8 weight stays in the file, which must then stay open while the module is used); trainable
     * parameters are copied (and cast) into their own memory; buffers are copied in their file dtype. A shape mismatch is always an error; with {@code strict}, so are missing and unexpected
     * keys (PyTorch semantics). Nothing is loaded when an error is thrown.
     *
     * @throws IllegalArgumentException naming every offending key
     */
    public LoadReport loadStateDict(StateSource source, boolean strict) {
        Map<String, Parameter> params = namedParameters();
        Map<String, Tensor> bufs = namedBuffers();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (var e : params.entrySet()) {
            check(source, e.getKey(), e.getValue().shape(), missing, mismatched);
        }
        for (var e : bufs.entrySet()) {
            check(source, e.getKey(), e.getValue().shape(), missing, mismatched);
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : new TreeSet<>(source.keys())) {
            if (!params.containsKey(k) && !bufs.containsKey(k)) {
                unexpected.add(k);
            }
        }
        LoadReport report = new LoadReport(missing, unexpected, mismatched);
        if (!mismatched.isEmpty() || (strict && !report.isClean())) {
            throw new IllegalArgumentException("cannot load state dict into " + getClass().getSimpleName() + ":\n"
                + report.describe());
        }
        params.forEach((k, p) -> {
            if (source.keys().contains(k)) {
                Tensor t = source.get(k);
                if (p.requiresGrad()) {
                    p.copyFrom(t);
                } else {
                    p.adopt(t);
                }
            }
        });
        visit("", (prefix, m) -> m.buffers.replaceAll((n, b) -> {
            String k = prefix + n;
            return source.keys().contains(k) ? persistentCopy(source.get(k)) : b;
        }));
        return report;
    }

    /** Buffers are small: copied (in the file's dtype), so they stay valid after the source is closed. */
    private static Tensor persistentCopy(Tensor t) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return t.copy();
        }
    }

    private static void check(StateSource source, String key, Shape want, List<String> missing,
                              List<String> mismatched) {
        if (!source.keys().contains(key)) {
            missing.add(key);
            return;
        }
        Tensor t = source.get(key);
        if (!t.shape().equals(want)) {
            mismatched.add(key + ": expected " + want + ", got " + t.shape());
        }
    }

    private Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        visit("", (prefix, m) -> m.buffers.forEach((n, b) -> out.put(prefix + n, b)));
        return out;
    }

    /**
     * Moves every loaded parameter and buffer below this module to {@code device} (PyTorch's {@code module.to}):
     * each is copied once through {@link Tensor#to(Device)} in its own dtype, outside any memory scope. What is
     * already on {@code device} is left as it is, so on the CPU a model over a mapped checkpoint keeps its views; a
     * moved parameter loses its gradient ({@link Parameter#moveTo}). The device is checked first: an unusable one
     * throws (saying why) with nothing moved.
     *
     * @throws IllegalStateException when {@code device}'s backend cannot start (no driver, no GPU, a missing library)
     */
    public Module to(Device device) {
        Backends.of(device);
        namedParameters().values().forEach(p -> p.moveTo(device));
        try (MemoryScope outside = MemoryScope.suspend()) {
            visit("", (prefix, m) -> m.buffers.replaceAll((n, b) -> b.device().equals(device) ? b : b.to(device)));
        }
        return this;
    }

    /**
     * The device of the loaded parameters and buffers below this module (the CPU when none is loaded).
     *
     * @throws IllegalStateException naming two tensors that live on different devices
     */
    public Device device() {
        Device found = null;
        String first = null;
        Map<String, Tensor> state = stateDict();
        for (var e : state.entrySet()) {
            Device d = e.getValue().device();
            if (found == null) {
                found = d;
                first = e.getKey();
            } else if (!found.equals(d)) {
                throw new IllegalStateException(getClass().getSimpleName() + " is on several devices: " + first + " on "
                    + found + ", " + e.getKey() + " on " + d + " (move it with to(Device))");
            }
        }
        return found == null ? Device.CPU : found;
    }

    /** Sets training mode (dropout active) on this module and every descendant. */
    public Module train(boolean on) {
        visit("", (prefix, m) -> m.training = on);
        return this;
    }

    public boolean isTraining() {
        return training;
    }

    /** Freezes (or unfreezes) every parameter below this module. */
    public Module requiresGrad(boolean on) {
        namedParameters().values().forEach(p -> p.requiresGrad(on));
        return this;
    }

    /** Zeroes the gradients of every parameter below this module (keeping their buffers). */
    public void zeroGrad() {
        namedParameters().values().forEach(Var::zeroGrad);
    }
}
