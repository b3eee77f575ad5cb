package dev.loraid.bench.train;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.LrSchedules;
import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.Stopwatch;
import dev.loraid.core.Reporter;
import dev.loraid.core.data.TrainSample;
import dev.loraid.core.demo.DemoModel;
import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.core.train.GradientSync;
import dev.loraid.core.train.Noising;
import dev.loraid.core.train.OptimizerConfig;
import dev.loraid.core.train.Optimizers;
import dev.loraid.core.train.TrainStep;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanModel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code bench/run train-batch}: LoRA training steps (forward, backward, AdamW) of the demo's tiny DiT
 * ({@link DemoModel#CONFIG}: dim 64, 6 blocks, one 48x48 picture = 36 tokens per sample, rank-16 LoRA on every block)
 * at the demo's batch size 4, through {@link TrainStep} as the trainer runs it — the micro-batch as one batched DiT
 * call — against the same step taken as four batch-1 calls (each sample's loss scaled by 1/4: the same gradients; the
 * trainer's path before batching). On a model this small a step is overhead-bound (packing, attention set-up, thread
 * hand-offs), which batching amortises.
 */
public final class TrainBatchBench implements BenchCommand {
    static final int BATCH = 4;
    static final int RANK = 16;
    static final long[] LATENTS = {4, 1, 12, 12};
    static final int TEXT_TOKENS = 6;
    /** Steps per timed run (one step is ~0.1 s). */
    static final int STEPS = 10;
    private static final long SEED = 42;

    @Override
    public String name() {
        return "train-batch";
    }

    @Override
    public String summary() {
        return "LoRA training steps of the demo's tiny DiT at batch 4: one batched DiT call vs four batch-1 calls "
            + "[--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        Series series = ctx.series(args, 5, 1);
        TrainStepCase data = TrainStepCase.random(DemoModel.CONFIG, LATENTS, TEXT_TOKENS, SEED);
        Steps steps = new Steps(data);
        String label = String.format(Locale.ROOT, "train-batch demo DiT (dim %d, %d blocks), B=%d x L=%d, rank %d",
                data.config().dim(), data.config().numLayers(), BATCH, data.tokens(), RANK);
        // in alternation, so that a host whose speed drifts slows both alike
        Stopwatch.Interleaved both = series.interleaved(label + ", four batch-1 calls", () -> steps.run(false),
                label + ", one batched call", () -> steps.run(true));
        Stopwatch.Timing perSample = both.a();
        Stopwatch.Timing batched = both.b();
        print(ctx, label, "wall median", perSample.median(), batched.median());
        ctx.out().printf(Locale.ROOT, "%s: speed-up of the batched call, the median over %d alternating pairs: %sx%n",
                label, perSample.seconds().length, Figures.num(1 / both.ratio(), 2));
        // on a shared box: the median scaled by the share of the CPUs this process held (Stopwatch.Timing)
        print(ctx, label, "CPU-normalised", perSample.cpuNormalizedMedian(ctx.threads()),
                batched.cpuNormalizedMedian(ctx.threads()));
    }

    private static void print(BenchContext ctx, String label, String what, double perSample, double batched) {
        ctx.out().printf(Locale.ROOT, "%s (%s): four batch-1 calls %s ms/step, one batched call %s ms/step, speed-up %sx%n",
                label, what, Figures.num(perSample / STEPS * 1e3, 1), Figures.num(batched / STEPS * 1e3, 1),
                Figures.num(perSample / batched, 2));
    }

    /** The trainer's objects over the case's weights, and a batch of four samples of one bucket. */
    private static final class Steps {
        final WanModel model;
        final TrainStep step;
        final List<TrainSample> samples = new ArrayList<>();
        final Noising[] noisings = new Noising[BATCH];
        long micro;

        Steps(TrainStepCase d) {
            WanConfig c = d.config();
            model = new WanModel(c);
            Map<String, Tensor> w = new LinkedHashMap<>();
            d.weights().forEach((k, v) -> w.put(k, Tensor.of(v, d.shapes().get(k))));
            model.loadStateDict(StateSource.of(w), true);
            LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), RANK, RANK,
                    LoraAdapter.Dropouts.NONE, SEED, Reporter.SILENT);
            net.setTraining(true);
            Map<String, Parameter> params = net.trainableParameters();
            OptimizerConfig oc = new OptimizerConfig("AdamW", List.of(), 1e-3, "constant", "0", "0", 1, 1.0, null, null,
                    null, 1.0);
            Optimizer optimizer = Optimizers.of(params, oc, null);
            step = new TrainStep(params.values(), optimizer, new LrScheduler(optimizer, LrSchedules.constant()), 1.0,
                    GradientSync.LOCAL, null);
            Tensor latents = Tensor.of(d.latents(), d.latentShape());
            Tensor t5 = Tensor.of(d.t5(), d.textTokens(), c.textDim());
            for (int i = 0; i < BATCH; i++) {
                samples.add(new TrainSample("bench" + i, latents, t5, null, null, null));
                double sigma = (i + 0.5) / BATCH;
                noisings[i] = new Noising(sigma, sigma * 1000, 1.0);
            }
        }

        /** {@link #STEPS} steps, each one batched call or {@link #BATCH} batch-1 calls. */
        void run(boolean batched) {
            for (int s = 0; s < STEPS; s++) {
                if (batched) {
                    step.accumulate(model, samples, noisings, SEED, micro, 1.0);
                } else {
                    for (int i = 0; i < BATCH; i++) {
                        step.accumulate(model, List.of(samples.get(i)), new Noising[] {noisings[i]}, SEED, micro, 1.0 / BATCH);
                    }
                }
                micro++;
                step.update();
            }
        }
    }
}
