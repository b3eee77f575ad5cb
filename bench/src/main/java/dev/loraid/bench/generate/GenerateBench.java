package dev.loraid.bench.generate;

import dev.loraid.autograd.StateSource;
import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Options;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.Stopwatch;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.bench.train.TrainStepCase;
import dev.loraid.core.Reporter;
import dev.loraid.core.generate.ExpertResidency;
import dev.loraid.wan.quant.Fp8Load;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.generate.GenerateResult;
import dev.loraid.core.generate.Generator;
import dev.loraid.core.generate.LoraSelection;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.sample.CfgSkipMode;
import dev.loraid.wan.sample.SkipLayerGuidance;
import dev.loraid.wan.sample.SolverKind;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench/run generate} (issue 14): text-to-video sampling — UniPC (bh2, order 2), 20 steps by default, shift
 * 5, CFG 5 with both branches every step — through the code {@code loraid generate} runs
 * ({@link Generator#sample}: the solver loop, {@code GuidedVelocity}, {@code WanDenoiser}, {@link WanModel#forward}),
 * on {@code train-step}'s model: 2 blocks with the Wan 2.1 1.3B dimensions, BF16 weights ({@link TrainStepCase}'s
 * draw), 1560 tokens (latent [16, 1, 60, 104], one 480x832 frame), 120 T5 tokens for the prompt and the same rows in
 * reverse order for the negative prompt, starting from the case's latents as the noise. PyTorch runs the same
 * sampling through DJL (fp32 weights of the same values; its UniPC written out with NDArray ops). Both sides also
 * time one DiT forward alone, so the report gives the time per model call of the sample (sample / (2·steps)) against
 * a lone forward: what the sampler, CFG combine and bookkeeping add. Last line {@code ratio=<pytorch ÷ ours>} of the
 * whole sample.
 */
public final class GenerateBench implements BenchCommand {
    static final int LAYERS = 2;
    static final long[] LATENTS = {16, 1, 60, 104};
    static final int TEXT_TOKENS = 120;
    static final double SHIFT = 5.0;
    static final double GUIDANCE = 5.0;
    private static final long SEED = 42;

    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "text-to-video sampling, UniPC + CFG through Generator.sample, 2-block Wan 1.3B, 1560 tokens, bf16, vs "
            + "PyTorch; per model call vs one forward [--steps N (20)] [--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        int steps = Options.intOption(args, "--steps", 20);
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be ≥ 1");
        }
        Series series = ctx.series(args, 2, 1);
        WanConfig c = new WanConfig("2.1", 1, 2, 2, 16, 16, 1536, 8960, 12, LAYERS, 4096, 256, 512, 1e-6, false, false);
        ctx.log().println("generate: drawing " + c.describe() + " weights ...");
        TrainStepCase data = TrainStepCase.random(c, LATENTS, TEXT_TOKENS, SEED);
        float[] negative = reversedRows(data.t5(), TEXT_TOKENS, c.textDim());
        long tokens = data.tokens();
        String label = String.format(Locale.ROOT, "generate Wan 1.3B dims x%d blocks, L=%d, unipc %d steps + CFG", LAYERS,
                tokens, steps);

        WanModel model = new WanModel(c);
        Map<String, Tensor> w = new LinkedHashMap<>();
        data.weights().forEach((k, v) -> w.put(k, Tensor.of(v, data.shapes().get(k)).to(DType.BF16)));
        model.loadStateDict(StateSource.of(w), true);
        Tensor noise = Tensor.of(data.latents(), data.latentShape());
        Tensor context = Tensor.of(data.t5(), TEXT_TOKENS, c.textDim());
        Tensor negativeContext = Tensor.of(negative, TEXT_TOKENS, c.textDim());
        WanVariant task = new WanVariant("bench-1.3B-x" + LAYERS, c, List.of(), 0, SHIFT, steps, GUIDANCE, GUIDANCE, 16,
                new int[] {4, 8, 8}, 1, 16);
        GenerateRequest req = new GenerateRequest(task, Path.of("bench-weights"), null, LoraSelection.NONE,
                LoraSelection.NONE, SolverKind.UNIPC, steps, SHIFT, GUIDANCE, GUIDANCE, null, CfgSkipMode.NONE, null,
                SkipLayerGuidance.OFF, SEED, (int) LATENTS[2] * 8, (int) LATENTS[3] * 8, 1, context, negativeContext, noise,
                Device.CPU, ExpertResidency.BOTH, Fp8Load.NONE, 0, DType.F32, Map.of());
        double t0 = req.solver().schedule(steps, SHIFT).timesteps()[0];

        Stopwatch.Timing fwd = series.time("loraid one DiT forward", () -> {
            try (MemoryScope s = MemoryScope.open()) {
                model.forward(new WanInputs(noise, Tensor.of(new float[] {(float) t0}, 1), context, null, null));
            }
        });
        GenerateResult[] ours = new GenerateResult[1];
        Stopwatch.Timing sample = series.time("loraid " + label, () -> ours[0] = Generator.sample(model, req, Reporter.SILENT));

        double[] torchForward = {Double.NaN};
        float[][] torchLatent = {null};
        double torchSample = series.torch("pytorch " + label + " f32", pt -> {
            TorchCpu.SampleRun r = pt.wanSample(data, negative, steps, SHIFT, GUIDANCE);
            try (TorchCpu.Workload f = r.forwardOnly()) {
                torchForward[0] = series.time("pytorch one DiT forward f32", f::run).median();
            }
            return TorchCpu.Workload.of(() -> {
                r.run();
                torchLatent[0] = r.latent();
            }, r::close);
        }).map(Stopwatch.Timing::median).orElse(Double.NaN);

        var out = ctx.out();
        int calls = 2 * steps;
        double mine = sample.median();
        out.printf(Locale.ROOT, "%s: loraid %s s/sample (bf16 weights), pytorch %s s/sample (f32)%n", label,
                Figures.num(mine, 2), Figures.num(torchSample, 2));
        out.printf(Locale.ROOT, "per model call (%d calls): loraid %s ms vs one forward alone %s ms (sampler + CFG + "
                + "bookkeeping %s%%); pytorch %s ms vs %s ms (%s%%)%n", calls, Figures.num(mine / calls * 1e3, 0),
                Figures.num(fwd.median() * 1e3, 0), Figures.num(100 * (mine / calls / fwd.median() - 1), 1),
                Figures.num(torchSample / calls * 1e3, 0), Figures.num(torchForward[0] * 1e3, 0),
                Figures.num(100 * (torchSample / calls / torchForward[0] - 1), 1));
        if (torchLatent[0] != null) {
            float[] a = ours[0].latent().toFloatArray();
            float[] b = torchLatent[0];
            double maxDiff = 0;
            double sumSq = 0;
            for (int i = 0; i < a.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                sumSq += (double) b[i] * b[i];
            }
            out.printf(Locale.ROOT, "final latent: max |loraid (bf16) - pytorch (f32)| %.3g, pytorch rms %.3g%n", maxDiff,
                    Math.sqrt(sumSq / b.length));
        }
        out.println("ratio=" + Figures.num(torchSample / mine, 2));
    }

    /** The negative prompt's states: the prompt's rows [tokens, dim] in reverse order. */
    static float[] reversedRows(float[] rows, int tokens, int dim) {
        float[] out = new float[rows.length];
        for (int r = 0; r < tokens; r++) {
            System.arraycopy(rows, r * dim, out, (tokens - 1 - r) * dim, dim);
        }
        return out;
    }
}
