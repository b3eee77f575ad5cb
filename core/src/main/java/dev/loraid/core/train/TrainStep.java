package dev.loraid.core.train;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Rng;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.optim.GradClip;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.core.cache.ControlConditioning;
import dev.loraid.core.data.TrainSample;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanModel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * One training step of the flow-matching objective (training.md §0 steps 2–9), split where data-parallel training
 * needs it: {@link #accumulate} runs forward and backward for one micro-batch and adds into the LoRA gradients;
 * {@link #update} combines gradients ({@link GradientSync}), clips them, and applies the optimizer and the schedule.
 * The trainer and the {@code train-step} benchmark both run exactly this code.
 *
 * <p>A micro-batch is one DiT call ({@link WanModel#forwardBatch}), as upstream runs it: every sample of a batch comes
 * from one bucket and so has one latent shape. Each sample keeps its own noise, timestep, loss weight, text and image
 * conditioning; its loss is the mean over its own elements, and the batch's loss is the mean of the samples' losses,
 * which is upstream's mean over [B, C, F, H, W] (the samples have one shape). Activations are held for the whole
 * batch at once, B times those of one sample.
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

    /**
     * What one optimizer update did.
     *
     * @param groupLrs each group's scheduled rate and the rate its update used ([group][0 scheduled, 1 applied])
     */
    public record Update(double gradNorm, double[][] groupLrs, MaxNormRegularizer.Result maxNorm) {
        /** The rate the first parameter group's update used ({@code Optimizer.appliedLr}). */
        public double lr() {
            return groupLrs[0][1];
        }
    }

    /**
     * Forward and backward of one micro-batch through {@code model}: sample i is noised at {@code noisings[i]} with
     * noise from stream {@link RandomStreams#noise}(seed, microStep, i), the dropouts are drawn from
     * {@link RandomStreams#dropout}(seed, microStep); the samples' losses are summed and backpropagated scaled by
     * {@code lossScale / B} (lossScale = 1 / the gradient-accumulation steps). Returns the micro-batch's mean loss
     * (unscaled).
     */
    public double accumulate(WanModel model, List<TrainSample> samples, Noising[] noisings, long seed, long microStep,
            double lossScale) {
        int b = samples.size();
        if (b != noisings.length) {
            throw new IllegalArgumentException(b + " samples but " + noisings.length + " timesteps");
        }
        Device device = model.device();
        try (MemoryScope batch = MemoryScope.open()) {
            List<Var> noisy = new ArrayList<>();
            List<Var> targets = new ArrayList<>();
            double[] timesteps = new double[b];
            for (int i = 0; i < b; i++) {
                Var latents = Var.constant(onDevice(samples.get(i).latents(), device));
                Var eps = Var.constant(noise(latents.data(), RandomStreams.noise(seed, microStep, i)));
                noisy.add(FlowMatching.noisy(latents, eps, noisings[i].sigma()));
                targets.add(FlowMatching.target(latents, eps));
                timesteps[i] = noisings[i].timestep();
            }
            Rng.seed(RandomStreams.dropout(seed, microStep));
            Var pred = predict(model, samples, noisy, timesteps);
            Var sum = null;
            double total = 0;
            for (int i = 0; i < b; i++) {
                Noising n = noisings[i];
                Var loss = FlowMatching.loss(pred.narrow(0, i, 1).squeeze(0), targets.get(i), n.weight());
                double value = loss.data().toDoubleArray()[0];
                if (!Double.isFinite(value)) {
                    throw new ArithmeticException("loss is " + value + " at micro-step " + microStep + " (item "
                            + samples.get(i).itemKey() + ", σ " + n.sigma() + ")");
                }
                sum = sum == null ? loss : sum.add(loss);
                total += value;
            }
            sum.backward(lossScale / b);
            return total / b;
        }
    }

    /** One DiT call takes one latent shape: the samples of a batch come from one bucket (training.md §4.4). */
    private static void requireOneShape(List<TrainSample> samples) {
        TrainSample first = samples.getFirst();
        for (TrainSample s : samples) {
            if (!s.latents().shape().equals(first.latents().shape())) {
                throw new IllegalArgumentException("one batch holds latents " + first.latents().shape() + " (item "
                        + first.itemKey() + ") and " + s.latents().shape() + " (item " + s.itemKey()
                        + "): the samples of a batch must come from one bucket");
            }
        }
    }

    /**
     * The optimizer update after the last micro-batch of an accumulation window: gradients combined across ranks,
     * clipped to {@code --max_grad_norm}, the optimizer, the schedule advanced, gradients zeroed, then the max-norm
     * regulariser (§2.9). Returns the gradient norm before clipping and the rate the update used.
     */
    public Update update() {
        sync.allReduce(params);
        double norm = GradClip.clipGlobalNorm(params, maxGradNorm);
        optimizer.step();
        double[][] lrs = new double[optimizer.groups().size()][];
        for (int g = 0; g < lrs.length; g++) {
            lrs[g] = new double[] {optimizer.groups().get(g).lr(), optimizer.appliedLr(g)};
        }
        scheduler.step();
        optimizer.zeroGrad();
        MaxNormRegularizer.Result scaled = maxNorm == null ? null : maxNorm.apply();
        return new Update(norm, lrs, scaled);
    }

    /**
     * The model's velocities [B, out_dim, F, H, W] for {@code samples} (one latent shape) noised to {@code noisy} at
     * model timesteps {@code timesteps}, in one DiT call: each sample's {@link #modelInput}, text embedding and CLIP
     * tokens.
     */
    static Var predict(WanModel model, List<TrainSample> samples, List<Var> noisy, double[] timesteps) {
        requireOneShape(samples);
        Device device = model.device();
        List<Var> inputs = new ArrayList<>();
        List<Var> contexts = new ArrayList<>();
        List<Var> clips = new ArrayList<>();
        double[][] t = new double[samples.size()][];
        for (int i = 0; i < samples.size(); i++) {
            TrainSample s = samples.get(i);
            inputs.add(modelInput(model, s, noisy.get(i)).unsqueeze(0));
            contexts.add(Var.constant(onDevice(s.t5(), device)));
            clips.add(clip(model, s));
            t[i] = new double[] {timesteps[i]};
        }
        return model.forwardBatch(Ops.concat(inputs, 0), t, contexts, model.config().imageBranch() ? clips : null);
    }

    /**
     * The DiT's input for sample {@code s} noised to {@code noisy}: after the noisy channels the I2V conditioning (mask
     * + image latents, §1.8), or with control latents (Fun-Control, §1.8) the control latents followed by the image
     * latents without their mask and with every frame after the first zeroed (zeros without an image), as upstream.
     */
    static Var modelInput(WanModel model, TrainSample s, Var noisy) {
        WanConfig c = model.config();
        Var input = noisy;
        // as upstream, a cache's conditioning and CLIP features are read only by a DiT that takes them (a T2V run on
        // --i2v caches ignores them)
        if (c.inDim() != c.outDim()) {
            Tensor y;
            if (s.latentsControl() != null) {
                if (c.imageBranch() && s.clip() == null) {
                    // upstream's training reads batch["clip"] for every Fun-Control task (its configs set i2v)
                    throw new IllegalArgumentException(s.itemKey() + ": a Fun-Control cache without CLIP tokens: upstream "
                            + "trains every Fun-Control task (T2V ones too) on caches made with --clip");
                }
                y = ControlConditioning.of(s.latentsControl(), s.latentsImage(), s.itemKey());
            } else if (s.latentsImage() != null) {
                y = s.latentsImage();
            } else {
                throw new IllegalArgumentException(s.itemKey() + ": the DiT takes image conditioning (in_dim " + c.inDim()
                        + ") but its cache has no latents_image: cache the dataset with --i2v");
            }
            input = Ops.concat(List.of(input, Var.constant(onDevice(y, model.device()))), 0);
        }
        return input;
    }

    /** The sample's CLIP tokens when the DiT has the 2.1 image branch, else null. */
    static Var clip(WanModel model, TrainSample s) {
        return s.clip() == null || !model.config().imageBranch() ? null : Var.constant(onDevice(s.clip(), model.device()));
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
