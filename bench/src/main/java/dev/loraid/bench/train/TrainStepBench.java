package dev.loraid.bench.train;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.LrSchedules;
import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Options;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.Stopwatch;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.core.Reporter;
import dev.loraid.core.data.TrainSample;
import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.lora.NetworkModule;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.core.train.GradientSync;
import dev.loraid.core.train.MixedPrecision;
import dev.loraid.core.train.Noising;
import dev.loraid.core.train.OptimizerConfig;
import dev.loraid.core.train.Optimizers;
import dev.loraid.core.train.TrainStep;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanModel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code bench/run train-step} (issue 11): one full LoRA training step — flow-matching forward, backward, global-norm
 * clipping and AdamW — through the code {@code loraid train} runs ({@link WanModel}, {@link LoraNetwork#create},
 * {@link Optimizers#of}, {@link LrScheduler}, {@link TrainStep#accumulate} + {@link TrainStep#update}), on a 2-block
 * Wan model with the 2.1 1.3B dimensions (dim 1536, ffn 8960, 12 heads, text 4096 x 512, freq 256, in/out 16, patch
 * (1, 2, 2)), frozen BF16 weights, rank-32 alpha-32 LoRA on all 10 Linears of each block, at 1560 tokens: latents
 * [16, 1, 60, 104] (one 480x832 frame), 120 T5 tokens. PyTorch runs the same model written with NDArray ops in fp32
 * (its bf16 aborts DJL) with its autograd and AdamW written out. Also measures the peak scoped (activation) memory of
 * our step with and without gradient checkpointing. Nominal FLOPs: per block the wan-block formula (forward and
 * backward to the input) plus the LoRA products 2·T·6·r·(in + out) per Linear, plus the text embedding forward and the
 * patch embedding and head; the recomputation of checkpointing is not counted. {@code --mixed_precision bf16|fp16}
 * also times our step with the model's half-precision activations ({@link WanModel#setActivationDType}, as
 * {@code train --mixed_precision} runs it) beside the fp32-activation step, in the same process.
 */
public final class TrainStepBench implements BenchCommand {
    static final int LAYERS = 2;
    static final long[] LATENTS = {16, 1, 60, 104};
    static final int TEXT_TOKENS = 120;
    private static final long SEED = 42;

    @Override
    public String name() {
        return "train-step";
    }

    @Override
    public String summary() {
        return "LoRA training step (fwd+bwd+AdamW), 2-block Wan 1.3B, 1560 tokens, bf16 base, vs PyTorch; activation "
            + "memory with/without checkpointing [--runs N] [--warmup N] [--mixed_precision bf16|fp16] "
            + "[--network_module networks.loha|networks.lokr: that network's step too]";
    }

    /** The 1.3B model's dimensions (wan.md §1.1, preset t2v-1.3B) with {@code layers} blocks. */
    static WanConfig config(int layers) {
        return new WanConfig("2.1", 1, 2, 2, 16, 16, 1536, 8960, 12, layers, 4096, 256, 512, 1e-6, false, false);
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        MixedPrecision mixed = MixedPrecision.parse(Options.stringOption(args, "--mixed_precision", "no"));
        String other = Options.stringOption(args, "--network_module", null);
        Series series = ctx.series(args, 3, 1);
        WanConfig c = config(LAYERS);
        ctx.log().println("train-step: drawing " + c.describe() + " weights ...");
        TrainStepCase data = TrainStepCase.random(c, LATENTS, TEXT_TOKENS, SEED);
        long tokens = data.tokens();
        String label = String.format(Locale.ROOT, "train-step Wan 1.3B dims x%d blocks, L=%d, rank %d", LAYERS, tokens,
                data.rank());

        Ours ours = new Ours(data);
        // activation memory: one step each way (these are also the first warm-up steps)
        ours.model.setGradientCheckpointing(false);
        long plain = ours.peakOfOneStep();
        ours.model.setGradientCheckpointing(true);
        long t0 = System.nanoTime();
        long ckpt = ours.peakOfOneStep();
        double ckptSeconds = (System.nanoTime() - t0) / 1e9;
        ours.model.setGradientCheckpointing(false);

        // ours and PyTorch's twin in alternating steps (the ratio is the median over the pairs)
        double[] torchLoss = {Double.NaN};
        Series.Paired pair = series.againstTorch("loraid " + label + " bf16 base", ours::step, "pytorch " + label + " f32",
            pt -> twin(pt, data, NetworkModule.LORA, torchLoss));
        Stopwatch.Timing t = pair.ours();
        double mine = t.median();
        double torch = pair.torch().map(Stopwatch.Timing::median).orElse(Double.NaN);
        double fp32Loss = ours.lastLoss;
        if (mixed != MixedPrecision.NO) {
            ours.model.setActivationDType(mixed.activationDType());
            long halfPeak = ours.peakOfOneStep(); // no checkpointing, as `plain`
            Stopwatch.Timing h = series.time("loraid " + label + " bf16 base, " + mixed.flagValue() + " activations", ours::step);
            ours.model.setActivationDType(DType.F32);
            // under load the medians move with the others' use of the cores: the CPU-normalised medians are printed too
            double half = h.median();
            double halfCpu = h.cpuNormalizedMedian(ctx.threads());
            double mineCpu = t.cpuNormalizedMedian(ctx.threads());
            ctx.out().printf(Locale.ROOT, "%s: %s activations %s ms/step (loss %.4f), fp32 activations %s ms/step: "
                    + "half/fp32 %.2f (CPU-normalised %s vs %s ms: %.2f); activation memory (no checkpointing) %.1f MiB "
                    + "vs %.1f MiB%n", label, mixed.flagValue(), Figures.num(half * 1e3, 0), ours.lastLoss,
                    Figures.num(mine * 1e3, 0), half / mine, Figures.num(halfCpu * 1e3, 0), Figures.num(mineCpu * 1e3, 0),
                    halfCpu / mineCpu, halfPeak / 1048576.0, plain / 1048576.0);
        }
        if (other != null) {
            // LoHa / LoKr as train --network_module builds them, on the same weights and sample, and PyTorch's twin of
            // upstream's arithmetic (x·ΔWᵀ added to the output, autograd through ΔW)
            NetworkModule module = NetworkModule.of(other);
            Ours alt = new Ours(data, module);
            long altPeak = alt.peakOfOneStep(); // no checkpointing, as `plain`
            Stopwatch.Timing a = series.time("loraid " + label + " bf16 base, " + other, alt::step);
            double[] altTorchLoss = {Double.NaN};
            double altTorch = series.torch("pytorch " + label + " f32, " + other, pt -> twin(pt, data, module, altTorchLoss))
                .map(Stopwatch.Timing::median).orElse(Double.NaN);
            ctx.out().printf(Locale.ROOT, "%s: %s %s ms/step (loss %.4f), LoRA %s ms/step: %s/LoRA %.2f; activation memory "
                    + "(no checkpointing) %.1f MiB vs %.1f MiB; pytorch %s %s ms/step (f32, loss %.4f): %s ratio=%.2f%n", label,
                    other, Figures.num(a.median() * 1e3, 0), alt.lastLoss, Figures.num(mine * 1e3, 0), other, a.median() / mine,
                    altPeak / 1048576.0, plain / 1048576.0, other, Figures.num(altTorch * 1e3, 0), altTorchLoss[0], other,
                    altTorch / a.median());
        }

        double flops = flops(c, tokens, data.rank());
        double peak = ctx.remeasureFmaPeak();
        PrintLines.print(ctx, label, mine, torch, pair.ratio(), flops, peak, fp32Loss, torchLoss[0], ckptSeconds, plain, ckpt);
    }

    /** PyTorch's twin step with {@code module}, as a timed workload; {@code lastLoss[0]} gets its last loss. */
    private static TorchCpu.Workload twin(TorchCpu pt, TrainStepCase data, NetworkModule module, double[] lastLoss) {
        TorchCpu.TrainRun r = pt.wanTrainStep(data, module);
        return TorchCpu.Workload.of(() -> {
            r.run();
            lastLoss[0] = r.lastLoss();
        }, r::close);
    }

    /** Our side: the trainer's objects over the case's weights. */
    private static final class Ours {
        final WanModel model;
        final TrainStep step;
        final TrainSample sample;
        final Noising[] noisings;
        long micro;
        double lastLoss = Double.NaN;

        Ours(TrainStepCase d) {
            this(d, NetworkModule.LORA);
        }

        Ours(TrainStepCase d, NetworkModule module) {
            model = new WanModel(d.config());
            Map<String, Tensor> w = new LinkedHashMap<>();
            d.weights().forEach((k, v) -> w.put(k, Tensor.of(v, d.shapes().get(k)).to(DType.BF16)));
            model.loadStateDict(StateSource.of(w), true);
            LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), module, d.rank(),
                    d.alpha(), LoraAdapter.Dropouts.NONE, -1, SEED, Reporter.SILENT);
            if (net.adapters().size() != 10 * d.config().numLayers()) {
                throw new IllegalStateException("expected 10 LoRA modules per block, got " + net.adapters().keySet());
            }
            net.setTraining(true);
            Map<String, Parameter> params = net.trainableParameters();
            OptimizerConfig oc = new OptimizerConfig("AdamW", List.of("weight_decay=" + d.weightDecay()), d.lr(), "constant",
                    "0", "0", 1, 1.0, null, null, null, d.maxGradNorm());
            Optimizer optimizer = Optimizers.of(params, oc, null);
            LrScheduler scheduler = new LrScheduler(optimizer, LrSchedules.constant());
            step = new TrainStep(params.values(), optimizer, scheduler, d.maxGradNorm(), GradientSync.LOCAL, null);
            Tensor latents = Tensor.of(d.latents(), d.latentShape()).to(DType.BF16);
            Tensor t5 = Tensor.of(d.t5(), d.textTokens(), d.config().textDim()).to(DType.BF16);
            sample = new TrainSample("bench", latents, t5, null, null, null);
            noisings = new Noising[] {new Noising(d.sigma(), d.timestep(), 1.0)};
        }

        void step() {
            lastLoss = step.accumulate(model, List.of(sample), noisings, SEED, micro++, 1.0);
            step.update();
        }

        long peakOfOneStep() {
            MemoryScope.resetPeak(Device.CPU);
            step();
            return MemoryScope.peakBytesInUse(Device.CPU);
        }
    }

    static double flops(WanConfig c, long tokens, int rank) {
        double d = c.dim();
        double text = c.textLen();
        double l = tokens;
        double f = c.ffnDim();
        double forward = 12 * l * d * d + 4 * text * d * d + 4 * l * d * f + 4 * l * l * d + 4 * l * text * d;
        double backward = 12 * l * d * d + 4 * l * d * f + 10 * l * l * d + 6 * l * text * d;
        // LoRA: forward 2·T·r·(in + out), backward twice that; q, k, v, o (self), q, o (cross) and the FFN on the L
        // tokens, cross k and v on the text_len context rows
        double lora = 6 * rank * (6 * l * 2 * d + 2 * text * 2 * d + 2 * l * (d + f));
        double perBlock = forward + backward + lora;
        double patch = c.inDim() * c.patchVolume();
        double embed = 2 * text * (c.textDim() * d + d * d) + 2 * l * patch * d + 2 * 2 * l * d * c.outDim() * c.patchVolume();
        return c.numLayers() * perBlock + embed;
    }

    /** The result lines. */
    private static final class PrintLines {
        static void print(BenchContext ctx, String label, double ours, double torch, double ratio, double flops, double peak,
                double ourLoss, double torchLoss, double ckptSeconds, long plain, long ckpt) {
            var out = ctx.out();
            out.printf(Locale.ROOT, "%s: loraid %s ms/step (bf16 base, loss %.4f), pytorch %s ms/step (f32, loss %.4f); "
                    + "nominal %.1f GFLOP/step%n", label, Figures.num(ours * 1e3, 0), ourLoss, Figures.num(torch * 1e3, 0),
                    torchLoss, flops / 1e9);
            out.println(Figures.line(label, Figures.gflops(flops, ours), Figures.gflops(flops, torch), ratio, peak));
            out.printf(Locale.ROOT, "activation memory (peak scoped bytes, one step): no checkpointing %.1f MiB, "
                    + "gradient checkpointing %.1f MiB, ratio %.2fx (checkpointed step %s ms)%n", plain / 1048576.0,
                    ckpt / 1048576.0, (double) plain / ckpt, Figures.num(ckptSeconds * 1e3, 0));
            out.println("ratio=" + Figures.num(ratio, 2));
        }
    }
}
