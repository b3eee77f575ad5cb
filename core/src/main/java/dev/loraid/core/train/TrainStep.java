package dev.loraid.core.train;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Rng;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.optim.GradClip;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.core.data.TrainSample;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanTaps;
import java.util.Collection;
import java.util.List;

/**
 * One training step of the flow-matching objective (training.md §0 steps 2–9), split where data-parallel training
 * needs it: {@link #accumulate} runs forward and backward for one micro-batch and adds into the LoRA gradients;
 * {@link #update} combines gradients ({@link GradientSync}), clips them, and applies the optimizer and the schedule.
 * The trainer and the {@code train-step} benchmark both run exactly this code.
 *
 * <p>A batch is processed sample by sample (each sample's loss scaled by 1/B, so the gradients are those of the
 * batch mean): the model is a batch-1 DiT, every sample of a batch comes from one bucket and so has one shape, and
 * the activations of one sample at a time are what bounds memory on a 2-core CPU as on a GPU. The result is the
 * gradient of upstream's mean over [B, C, F, H, W]; only the summation order differs.
 */
public final class TrainStep {
    private final Collection<Parameter> params;
    private final Optimizer optimizer;
    private final LrScheduler scheduler;
    private final double maxGradNorm;
    private final GradientSync sync;
    private final MaxNormRegularizer maxNorm;

    /**
     * @param maxNorm the {@code --scale_weight_norms} regulariser, or null
     */
    public TrainStep(Collection<Parameter> params, Optimizer optimizer, LrScheduler scheduler, double maxGradNorm,
            GradientSync sync, MaxNormRegularizer maxNorm) {
        this.params = List.copyOf(params);
        this.optimizer = optimizer;
        this.scheduler = scheduler;
        this.maxGradNorm = maxGradNorm;
        this.sync = sync;
        this.maxNorm = maxNorm;
    }

    /** What one optimizer update did. */
    public record Update(double gradNorm, double lr, MaxNormRegularizer.Result maxNorm) {
    }

    /**
     * Forward and backward of one micro-batch through {@code model}: sample i is noised at {@code noisings[i]} with
     * noise from stream {@link RandomStreams#noise}(seed, microStep, i), its dropouts drawn from
     * {@link RandomStreams#dropout}; its loss is backpropagated scaled by {@code lossScale / B} (lossScale = 1 / the
     * gradient-accumulation steps). Returns the micro-batch's mean loss (unscaled).
     */
    public double accumulate(WanModel model, List<TrainSample> samples, Noising[] noisings, long seed, long microStep,
            double lossScale) {
        if (samples.size() != noisings.length) {
            throw new IllegalArgumentException(samples.size() + " samples but " + noisings.length + " timesteps");
        }
        Device device = model.device();
        double total = 0;
        for (int i = 0; i < samples.size(); i++) {
            TrainSample s = samples.get(i);
            Noising n = noisings[i];
            try (MemoryScope sample = MemoryScope.open()) {
                Var latents = Var.constant(onDevice(s.latents(), device));
                Var eps = Var.constant(noise(latents.data(), RandomStreams.noise(seed, microStep, i)));
                Rng.seed(RandomStreams.dropout(seed, microStep, i));
                Var pred = predict(model, s, FlowMatching.noisy(latents, eps, n.sigma()), n.timestep());
                Var loss = FlowMatching.loss(pred, FlowMatching.target(latents, eps), n.weight());
                double value = loss.data().toDoubleArray()[0];
                if (!Double.isFinite(value)) {
                    throw new ArithmeticException("loss is " + value + " at micro-step " + microStep + " (item " + s.itemKey()
                            + ", σ " + n.sigma() + ")");
                }
                loss.backward(lossScale / samples.size());
                total += value;
            }
        }
        return total / samples.size();
    }

    /**
     * The optimizer update after the last micro-batch of an accumulation window: gradients combined across ranks,
     * clipped to {@code --max_grad_norm}, AdamW, the schedule advanced, gradients zeroed, then the max-norm
     * regulariser (§2.9). Returns the gradient norm before clipping and the rate the update used.
     */
    public Update update() {
        sync.allReduce(params);
        double norm = GradClip.clipGlobalNorm(params, maxGradNorm);
        double lr = scheduler.lr(0);
        optimizer.step();
        scheduler.step();
        optimizer.zeroGrad();
        MaxNormRegularizer.Result scaled = maxNorm == null ? null : maxNorm.apply();
        return new Update(norm, lr, scaled);
    }

    /**
     * The model's velocity for sample {@code s} noised to {@code noisy} at model timestep {@code timestep}: the I2V
     * conditioning (mask + image latents, §1.8) after the noisy channels, the text embedding and the CLIP tokens of
     * the sample.
     */
    static Var predict(WanModel model, TrainSample s, Var noisy, double timestep) {
        Device device = model.device();
        WanConfig c = model.config();
        Var input = noisy;
        // as upstream, a cache's I2V conditioning and CLIP features are read only by a DiT that takes them (a T2V run on
        // --i2v caches ignores them)
        if (c.inDim() != c.outDim()) {
            if (s.latentsImage() == null) {
                throw new IllegalArgumentException(s.itemKey() + ": the DiT takes image conditioning (in_dim " + c.inDim()
                        + ") but its cache has no latents_image: cache the dataset with --i2v");
            }
            input = Ops.concat(List.of(input, Var.constant(onDevice(s.latentsImage(), device))), 0);
        }
        if (s.latentsControl() != null) {
            throw new IllegalArgumentException(s.itemKey() + ": control latents (Fun-Control) are not supported yet");
        }
        Var clip = s.clip() == null || !c.imageBranch() ? null : Var.constant(onDevice(s.clip(), device));
        return model.forward(input, new double[] {timestep}, Var.constant(onDevice(s.t5(), device)), clip, WanTaps.NONE);
    }

    /** Standard normal noise shaped like {@code like}, from the backend's counter-based generator at {@code key}. */
    static Tensor noise(Tensor like, long key) {
        Tensor noise = Tensor.empty(like.device(), DType.F32, like.shape().toArray());
        noise.backend().randomNormal(noise, key, 0);
        return noise;
    }

    /** {@code t} as F32 on {@code device} (cache tensors are bf16/fp16 on the host). */
    static Tensor onDevice(Tensor t, Device device) {
        Tensor f = t.dtype() == DType.F32 ? t : t.to(DType.F32);
        return f.device().equals(device) ? f : f.to(device);
    }
}
