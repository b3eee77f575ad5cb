package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;

/**
 * {@code unipc}: UniPC multistep, solver order 2, bh2 (B(h) = e^{−h} − 1 in the data-prediction form), x0 prediction
 * m = x − σ·v, final σ = 0 (spec training.md §6.4; a port of the update of musubi-tuner's FlowUniPCMultistepScheduler).
 * λ = log(1 − σ) − log σ. At step i ≥ 1 the UniC corrector first corrects x_i with m_i and the previous predictor's
 * order; the DiT saw the uncorrected x_i. The predictor then has order 1 at the first and the last step and 2
 * otherwise; the last step (σ_n = 0) returns m_{n−1}. Scalars are float64, tensors keep their dtype.
 */
final class UniPcSolver implements FlowSolver {
    private final double[] sigmas;
    private final int steps;
    private Tensor lastSample;   // the (corrected) state the previous predictor started from
    private Tensor mPrev;        // m_{i−1}
    private Tensor mPrev2;       // m_{i−2}
    private int prevOrder;

    UniPcSolver(FlowSchedule schedule) {
        this.sigmas = schedule.sigmas();
        this.steps = schedule.steps();
    }

    @Override
    public Tensor step(int i, Tensor x, Tensor v) {
        Tensor m = Latents.x0(x, sigmas[i], v);
        Tensor sample = i == 0 ? x : correct(i, m);
        // order 1 at the first step (no history) and at the last (σ_n = 0 would make the order-2 terms non-finite)
        int order = Math.min(Math.min(2, steps - i), i + 1);
        Tensor next = predict(i, order, sample, m, mPrev);
        if (i < steps - 1) {
            lastSample = Latents.keep(sample);
            mPrev2 = mPrev;
            mPrev = Latents.keep(m);
            prevOrder = order;
        }
        return next;
    }

    /** UniP: from σ_i to σ_{i+1} starting at {@code x} with m0 = m_i (and m_{i−1} for order 2). */
    private Tensor predict(int i, int order, Tensor x, Tensor m0, Tensor m1) {
        double sigmaT = sigmas[i + 1];
        double sigmaS0 = sigmas[i];
        if (sigmaT == 0) {
            return m0.copy(); // (σ_t/σ_s0)·x − α_t·(e^{−∞} − 1)·m0 = m0: the x0 prediction
        }
        double alphaT = 1 - sigmaT;
        double h = Latents.lambda(sigmaT) - Latents.lambda(sigmaS0);
        double hPhi1 = Math.expm1(-h);
        double bh = hPhi1; // bh2
        if (order == 1) {
            return Latents.combine(sigmaT / sigmaS0, x, -alphaT * hPhi1, m0);
        }
        double rk = (Latents.lambda(sigmas[i - 1]) - Latents.lambda(sigmaS0)) / h;
        // x_t − α_t·B(h)·0.5·D1 with D1 = (m1 − m0)/rk (upstream's fixed ρ_p = 0.5 for order 2)
        double c = -alphaT * bh * 0.5 / rk;
        return Latents.combine(sigmaT / sigmaS0, x, -alphaT * hPhi1 - c, m0, c, m1);
    }

    /** UniC at step i: corrects x_i from the previous state, using m_i (from the uncorrected x_i) and the history. */
    private Tensor correct(int i, Tensor mT) {
        double sigmaT = sigmas[i];
        double sigmaS0 = sigmas[i - 1];
        double alphaT = 1 - sigmaT;
        double lambdaS0 = Latents.lambda(sigmaS0);
        double h = Latents.lambda(sigmaT) - lambdaS0;
        double hh = -h;
        double hPhi1 = Math.expm1(hh);
        double bh = hPhi1;
        double cx = sigmaT / sigmaS0;
        double cm0 = -alphaT * hPhi1;
        if (prevOrder == 1) {
            // ρ_c = 0.5: x_t = x_t_ − α_t·B(h)·0.5·(m_t − m0)
            double c = -alphaT * bh * 0.5;
            return Latents.combine(cx, lastSample, cm0 - c, mPrev, c, mT);
        }
        // order 2: solve [[1, 1], [rk, 1]]·ρ = b for the history term D1 = (m_{i−2} − m0)/rk and D1_t = m_t − m0
        double rk = (Latents.lambda(sigmas[i - 2]) - lambdaS0) / h;
        double hPhiK = hPhi1 / hh - 1;
        double b1 = hPhiK / bh;
        hPhiK = hPhiK / hh - 0.5;
        double b2 = hPhiK * 2 / bh;
        double rho0 = (b1 - b2) / (1 - rk);
        double rho1 = b1 - rho0;
        double cHist = -alphaT * bh * rho0 / rk;   // on (m_{i−2} − m0)
        double cT = -alphaT * bh * rho1;            // on (m_t − m0)
        Tensor partial = Latents.combine(cx, lastSample, cm0 - cHist - cT, mPrev, cHist, mPrev2);
        partial.backend().addScaled(partial, 1.0, mT, cT, partial);
        return partial;
    }
}
