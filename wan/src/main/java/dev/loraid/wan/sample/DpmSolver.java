package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;

/**
 * {@code dpm++}: DPM-Solver++ 2M, midpoint, x0 prediction m = x − σ·v (spec training.md §6.4; the update of musubi-tuner's
 * FlowDPMSolverMultistepScheduler). First order at the first step and at the last (which returns m_{n−1} since
 * σ_n = 0); with σ_0 = 1, λ_0 = −∞ and the second step's history term vanishes, so it is first order too.
 */
final class DpmSolver implements FlowSolver {
    private final double[] sigmas;
    private final int steps;
    private Tensor mPrev;

    DpmSolver(FlowSchedule schedule) {
        this.sigmas = schedule.sigmas();
        this.steps = schedule.steps();
    }

    @Override
    public Tensor step(int i, Tensor x, Tensor v) {
        double sigmaT = sigmas[i + 1];
        double sigmaS0 = sigmas[i];
        Tensor m0 = Latents.x0(x, sigmaS0, v);
        Tensor next;
        if (sigmaT == 0) {
            next = m0; // (σ_t/σ_s)·x − α_t·(e^{−∞} − 1)·m0 = m0
        } else {
            double alphaT = 1 - sigmaT;
            double lambdaS0 = Latents.lambda(sigmaS0);
            double h = Latents.lambda(sigmaT) - lambdaS0;
            double cm = -alphaT * (Math.exp(-h) - 1.0);
            if (i == 0) {
                next = Latents.combine(sigmaT / sigmaS0, x, cm, m0);
            } else {
                // D1 = (m0 − m1)/r0 with r0 = h0/h; r0 = ∞ (σ_{i−1} = 1) makes the term vanish
                double r0 = (lambdaS0 - Latents.lambda(sigmas[i - 1])) / h;
                double cD = 0.5 * cm / r0;
                next = Latents.combine(sigmaT / sigmaS0, x, cm + cD, m0, -cD, mPrev);
            }
        }
        if (i < steps - 1) {
            mPrev = Latents.keep(m0);
        }
        return next;
    }
}
