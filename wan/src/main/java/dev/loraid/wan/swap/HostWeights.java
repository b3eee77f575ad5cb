package dev.loraid.wan.swap;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Parameter;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The host tensors a model's frozen weights were loaded from, kept while the model runs on a device, so that moving it
 * back to the host adopts them again instead of copying every weight device → host: Wan 2.2 A14B's
 * {@code --offload_inactive_dit} (training.md §1.7, §6.5) then pays one host → device copy per expert switch, not
 * two. Recorded from a model built over a checkpoint, these are the checkpoint's mapped views or its fp8 copies, which
 * the open checkpoint holds anyway: keeping them costs no memory. Only frozen weights are re-adopted, and only while
 * they are still frozen: nothing writes them, so the host tensor still holds what the device copy holds.
 */
public final class HostWeights {
    private final Map<String, Tensor> host;

    private HostWeights(Map<String, Tensor> host) {
        this.host = host;
    }

    /** The frozen, loaded parameters of {@code model} that are on the host now (none of a model already moved). */
    public static HostWeights of(Module model) {
        Map<String, Tensor> host = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> {
            if (!p.requiresGrad() && p.isLoaded() && p.data().device().isCpu()) {
                host.put(name, p.data());
            }
        });
        return new HostWeights(host);
    }

    /** How many weights this holds. */
    public int size() {
        return host.size();
    }

    /**
     * Moves {@code model} (the one this was recorded from) to the host: each recorded weight that is still frozen adopts
     * its host tensor, dropping the device copy; anything else moves as {@link Module#to} moves it, by a copy.
     *
     * @throws IllegalArgumentException when {@code model} lacks a recorded parameter (another model)
     */
    public void moveToHost(Module model) {
        Map<String, Parameter> params = model.namedParameters();
        host.forEach((name, t) -> {
            Parameter p = params.get(name);
            if (p == null) {
                throw new IllegalArgumentException("the model has no parameter " + name + ": these host weights were "
                    + "recorded from another model");
            }
            if (!p.requiresGrad()) {
                p.adopt(t);
            }
        });
        model.to(Device.CPU);
    }
}
