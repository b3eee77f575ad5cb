package dev.loraid.bench.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.bench.train.TrainStepCase;
import dev.loraid.wan.sample.FlowSchedule;

/**
 * Text-to-video sampling through PyTorch: the model forward of {@link DjlWanTrainStep} (no LoRA, fp32), CFG with both
 * branches every step, and UniPC bh2 of order 2 written out with NDArray ops, the same update as our
 * {@code UniPcSolver} (spec training.md §6.4: corrector from the second step with the previous predictor's order;
 * predictor order 1 at the first and last step; the last step returns x0 = x − σ·v). The σ and integer timestep
 * tables come from our {@link FlowSchedule} (plain numbers). Between steps the state (x, the previous sample and the
 * two last x0 predictions, ~0.4 MB each) lives in Java float arrays, so each step's arrays are freed with its
 * sub-manager; the copies cost microseconds against a DiT call.
 */
final class DjlWanSample implements TorchCpu.SampleRun {
    private final NDManager manager;
    private final DjlWanTrainStep model;
    private final TrainStepCase data;
    private final float[] negativeT5;
    private final double guidance;
    private final double[] sigmas;
    private final double[] timesteps;
    private final Shape shape;
    private float[] result;

    DjlWanSample(NDManager parent, TrainStepCase data, float[] negativeT5, int steps, double shift, double guidance) {
        this.manager = parent.newSubManager();
        this.model = new DjlWanTrainStep(manager, data, null);
        this.data = data;
        this.negativeT5 = negativeT5;
        this.guidance = guidance;
        FlowSchedule schedule = FlowSchedule.unipc(steps, shift);
        this.sigmas = schedule.sigmas();
        this.timesteps = schedule.timesteps();
        this.shape = new Shape(data.latentShape());
    }

    @Override
    public void run() {
        int steps = timesteps.length;
        float[] x = data.latents();
        float[] lastSample = null;
        float[] mPrev = null;
        float[] mPrev2 = null;
        int prevOrder = 0;
        for (int i = 0; i < steps; i++) {
            try (NDManager step = manager.newSubManager()) {
                NDArray xs = step.create(x, shape);
                NDArray vc = model.forward(step, step.create(x, shape), timesteps[i], data.t5());
                NDArray vu = model.forward(step, step.create(x, shape), timesteps[i], negativeT5);
                NDArray v = vu.add(vc.sub(vu).mul(guidance));
                NDArray m = xs.sub(v.mul(sigmas[i]));
                NDArray sample = i == 0 ? xs : correct(step, i, m, lastSample, mPrev, mPrev2, prevOrder);
                int order = Math.min(Math.min(2, steps - i), i + 1);
                NDArray next = predict(step, i, order, sample, m, mPrev);
                if (i < steps - 1) {
                    lastSample = sample.toFloatArray();
                    mPrev2 = mPrev;
                    mPrev = m.toFloatArray();
                    prevOrder = order;
                }
                x = next.toFloatArray();
            }
        }
        result = x;
    }

    private static double lambda(double sigma) {
        return Math.log(1 - sigma) - Math.log(sigma);
    }

    /** UniP from σ_i to σ_{i+1}. */
    private NDArray predict(NDManager step, int i, int order, NDArray x, NDArray m0, float[] m1) {
        double sigmaT = sigmas[i + 1];
        double sigmaS0 = sigmas[i];
        if (sigmaT == 0) {
            return m0;
        }
        double alphaT = 1 - sigmaT;
        double h = lambda(sigmaT) - lambda(sigmaS0);
        double hPhi1 = Math.expm1(-h);
        NDArray base = x.mul(sigmaT / sigmaS0);
        if (order == 1) {
            return base.add(m0.mul(-alphaT * hPhi1));
        }
        double rk = (lambda(sigmas[i - 1]) - lambda(sigmaS0)) / h;
        double c = -alphaT * hPhi1 * 0.5 / rk;
        return base.add(m0.mul(-alphaT * hPhi1 - c)).add(step.create(m1, shape).mul(c));
    }

    /** UniC at step i: corrects x_i from the previous sample with m_i and the history. */
    private NDArray correct(NDManager step, int i, NDArray mT, float[] lastSample, float[] mPrev, float[] mPrev2,
                            int prevOrder) {
        double sigmaT = sigmas[i];
        double sigmaS0 = sigmas[i - 1];
        double alphaT = 1 - sigmaT;
        double lambdaS0 = lambda(sigmaS0);
        double h = lambda(sigmaT) - lambdaS0;
        double hh = -h;
        double hPhi1 = Math.expm1(hh);
        double bh = hPhi1;
        NDArray last = step.create(lastSample, shape);
        NDArray m0 = step.create(mPrev, shape);
        NDArray out = last.mul(sigmaT / sigmaS0);
        double cm0 = -alphaT * hPhi1;
        if (prevOrder == 1) {
            double c = -alphaT * bh * 0.5;
            return out.add(m0.mul(cm0 - c)).add(mT.mul(c));
        }
        double rk = (lambda(sigmas[i - 2]) - lambdaS0) / h;
        double hPhiK = hPhi1 / hh - 1;
        double b1 = hPhiK / bh;
        hPhiK = hPhiK / hh - 0.5;
        double b2 = hPhiK * 2 / bh;
        double rho0 = (b1 - b2) / (1 - rk);
        double rho1 = b1 - rho0;
        double cHist = -alphaT * bh * rho0 / rk;
        double cT = -alphaT * bh * rho1;
        return out.add(m0.mul(cm0 - cHist - cT)).add(step.create(mPrev2, shape).mul(cHist)).add(mT.mul(cT));
    }

    @Override
    public TorchCpu.Workload forwardOnly() {
        return new TorchCpu.Workload() {
            @Override
            public void run() {
                try (NDManager call = manager.newSubManager()) {
                    model.forward(call, call.create(data.latents(), shape), timesteps[0], data.t5());
                }
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public float[] latent() {
        return result;
    }

    @Override
    public void close() {
        model.close();
        manager.close();
    }
}
