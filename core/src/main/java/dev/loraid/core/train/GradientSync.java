package dev.loraid.core.train;

import dev.loraid.autograd.Parameter;
import java.util.Collection;

/**
 * The one place between backward and the optimizer where gradients may be combined across processes: a data-parallel
 * run (each rank taking every world-th batch of the epoch order) averages them here before clipping. A single process
 * uses {@link #LOCAL}.
 */
@FunctionalInterface
public interface GradientSync {
    GradientSync LOCAL = params -> {
    };

    /** Replaces every gradient by its mean over the ranks. */
    void allReduce(Collection<Parameter> params);
}
