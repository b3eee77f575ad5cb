package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;

/**
 * The (guided) flow-matching velocity v ≈ ε − x0 at sampling step {@code step}: the model input {@code x}, the DiT
 * timestep {@code t} (0..1000, as the schedule gives it) and the table's {@code sigma}. Solvers only see this, so they
 * can be tested without a model (a closed-form field, or replayed golden velocities).
 */
@FunctionalInterface
public interface Velocity {
    Tensor at(Tensor x, int step, double t, double sigma);
}
