package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;

/**
 * One run of a flow solver over a {@link FlowSchedule} (spec training.md §6.4). Stateful (multistep history), so make
 * a new one per run with {@link SolverKind#start}. Steps are counted, never looked up by timestep (§6.4: upstream's
 * lookup fails when two integer timesteps coincide).
 */
public interface FlowSolver {
    /**
     * Step {@code i}: from the model input x_i and the velocity v_i returns the next model input x_{i+1} (the result
     * after the last step), in x's dtype, valid in the caller's memory scope. Steps must come in order 0, 1, …
     */
    Tensor step(int i, Tensor x, Tensor v);
}
