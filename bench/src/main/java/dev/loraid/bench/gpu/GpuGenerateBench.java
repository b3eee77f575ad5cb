package dev.loraid.bench.gpu;

import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.core.Reporter;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.generate.GenerateResult;
import dev.loraid.core.generate.Generator;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cuda.CudaBackend;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanKeys;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.WanWeights;
import dev.loraid.wan.sample.FlowSchedule;
import dev.loraid.wan.sample.SolverKind;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code bench/run gpu-generate} (issue 18): text-to-video sampling with a full Wan 2.1 14B model (t2v-14B: 40 blocks,
 * dim 5120, random bf16 weights drawn on the device, no file) at 480p × F frames (default 81: latents [16, 21, 60, 104],
 * 32,760 tokens), 512 text tokens for the prompt and 512 for the negative prompt: UniPC (bh2, order 2), shift 5, CFG 5
 * with both passes every step — through {@link Generator#sample} with the activation dtype {@code generate} takes on a
 * GPU by default ({@code --mixed_precision bf16}, upstream's autocast). Then the PyTorch twin
 * (bench/gpu/wan_generate_torch.py, a child process: the train-step twin's DiT under autocast bf16 and no_grad, the same
 * UniPC update, the σ table and timesteps handed over from {@link FlowSchedule#unipc}). Each side first samples one step
 * (start-up, kernel compilation, autotuning), then times {@code --steps} steps in one sample; prints seconds per step
 * (the sample's time over its steps: each step is two DiT forwards and the solver update) and peak device memory, and
 * last {@code ratio=<pytorch ÷ ours>}. The two draw their weights with different generators, so their latents are not
 * compared.
 *
 * <p>Options: {@code --preset 14b|tiny} ({@code tiny}: the 4-block golden config, a smoke run that works on the CPU),
 * {@code --device cuda:0|cpu}, {@code --frames F} (4k + 1, default 81), {@code --steps N} (default 4),
 * {@code --mixed_precision no|bf16} (default bf16; {@code no} times ours with fp32 activations, the twin stays bf16),
 * {@code --python CMD}, {@code --torch-script PATH},
 * {@code --no-torch}.
 */
public final class GpuGenerateBench implements BenchCommand {
    private static final long SEED = 42;
    private static final double SHIFT = 5.0;
    private static final double GUIDANCE = 5.0;

    @Override
    public String name() {
        return "gpu-generate";
    }

    @Override
    public String summary() {
        return "Wan 2.1 14B text-to-video sampling (UniPC + CFG, 480p x 81 frames, bf16 activations) through Generator.sample "
            + "on the device vs PyTorch CUDA; seconds per step and peak device memory of both";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) throws Exception {
        GpuBenchEntry.fromHarness(name(), ctx, args, GpuGenerateBench::run);
    }

    public static void main(String[] args) throws Exception {
        GpuBenchEntry.main("gpu-generate", args, GpuGenerateBench::run);
    }

    /** Our side's figures: seconds per step, the final latent (on the host), the peak device memory (-1 on the CPU). */
    record Ours(double secondsPerStep, Tensor latent, long peakBytes) {
    }

    static int run(List<String> args, PrintStream out, PrintStream log) throws Exception {
        Options o = Options.parse(args);
        GpuTrainStepBench.Shapes s = GpuTrainStepBench.Shapes.of(o.preset, o.frames);
        if (s.dual()) {
            throw new IllegalArgumentException("--preset " + o.preset + ": gpu-generate samples one DiT (14b or tiny)");
        }
        Backend be = Backends.of(o.device);
        out.printf(Locale.ROOT, "config: %s, latents %s = %d tokens, text %d + %d (negative), unipc %d steps, shift %.1f, "
                + "cfg %.1f, activations=%s, device=%s (%s)%n", s.config().describe(), Arrays.toString(s.latents()), s.tokens(),
            s.textTokens(), s.textTokens(), o.steps, SHIFT, GUIDANCE, o.activations.safetensorsName(), o.device, be);
        Ours ours = measureOurs(s, be, o, log);
        String peak = ours.peakBytes() < 0 ? "n/a (cpu)" : String.format(Locale.ROOT, "%.2f GiB", ours.peakBytes() / 1073741824.0);
        out.printf(Locale.ROOT, "ours: %.3f s/step (%d steps in one sample, after a one-step sample), peak device memory %s "
            + "(reserved)%n", ours.secondsPerStep(), o.steps, peak);
        if (o.device.isCpu() || o.noTorch) {
            out.printf(Locale.ROOT, "peak_memory: ours=%s torch=n/a%n", peak);
            out.printf(Locale.ROOT, "ours_s_per_step=%.4f%nratio=n/a (PyTorch not run)%n", ours.secondsPerStep());
            return 0;
        }
        Map<String, String> torch = runTorch(s, o, out);
        double torchSeconds = Double.parseDouble(torch.get("torch_ms")) / 1e3;
        out.printf(Locale.ROOT, "peak_memory: ours=%s torch=%s GiB (reserved; allocated %s GiB)%n", peak,
            torch.getOrDefault("torch_peak_reserved_gib", "?"), torch.getOrDefault("torch_peak_allocated_gib", "?"));
        out.printf(Locale.ROOT, "ours_s_per_step=%.4f torch_s_per_step=%.4f%n", ours.secondsPerStep(), torchSeconds);
        out.printf(Locale.ROOT, "ratio=%.3f%n", torchSeconds / ours.secondsPerStep());
        return 0;
    }

    /** The sampling request {@code generate} would make for these shapes on {@code be}'s device ({@code steps} steps). */
    static GenerateRequest request(GpuTrainStepBench.Shapes s, Backend be, Options o, int steps) {
        WanVariant task = s.variant();
        WanConfig c = s.config();
        Backend cpu = Backends.cpu();
        Tensor context = DeviceWeights.normal(cpu, DType.BF16, 2, 0.2, 0, s.textTokens(), c.textDim());
        Tensor negative = DeviceWeights.normal(cpu, DType.BF16, 3, 0.2, 0, s.textTokens(), c.textDim());
        int frames = (int) (s.latents()[1] - 1) * task.vaeStride()[0] + 1;
        return GenerateRequest.withTaskDefaults(task, Path.of("random " + s.preset() + " weights"), null, SEED, context, negative)
            .withSize((int) s.latents()[2] * task.vaeStride()[1], (int) s.latents()[3] * task.vaeStride()[2], frames)
            .withSampling(SolverKind.UNIPC, steps, SHIFT, GUIDANCE).withDevice(be.device()).withActivations(o.activations);
    }

    /** Random device weights; a one-step sample, then the timed {@code --steps} sample. */
    static Ours measureOurs(GpuTrainStepBench.Shapes s, Backend be, Options o, PrintStream log) {
        WanConfig c = s.config();
        long t0 = System.nanoTime();
        Map<String, Tensor> weights = DeviceWeights.random(be, WanKeys.expectedShapes(c), k -> true, DType.BF16, SEED, false, false);
        WanModel model = WanModel.load(c, new WanWeights(weights, "random " + s.preset() + " weights"));
        be.synchronize();
        log.printf(Locale.ROOT, "ours: model ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        long w0 = System.nanoTime();
        Generator.sample(model, request(s, be, o, 1), Reporter.SILENT);
        log.printf(Locale.ROOT, "ours: one-step sample (warm-up) %.2f s%n", (System.nanoTime() - w0) / 1e9);
        long t1 = System.nanoTime();
        GenerateResult r = Generator.sample(model, request(s, be, o, o.steps), Reporter.SILENT); // ends with the latent on the host
        double seconds = (System.nanoTime() - t1) / 1e9;
        long peak = be instanceof CudaBackend cuda ? cuda.peakBytesReserved() : -1;
        return new Ours(seconds / o.steps, r.latent(), peak);
    }

    /** Runs the PyTorch twin ({@link TorchTwin}) with the same shapes and σ table; returns its {@code torch_…} values. */
    static Map<String, String> runTorch(GpuTrainStepBench.Shapes s, Options o, PrintStream out) throws Exception {
        WanConfig c = s.config();
        FlowSchedule schedule = SolverKind.UNIPC.schedule(o.steps, SHIFT);
        List<String> cmd = new ArrayList<>(List.of(o.python, o.torchScript, "--layers", "" + c.numLayers(), "--dim", "" + c.dim(),
            "--ffn", "" + c.ffnDim(), "--heads", "" + c.numHeads(), "--text-dim", "" + c.textDim(), "--text-len",
            "" + c.textLen(), "--text", "" + s.textTokens(), "--in-dim", "" + c.inDim(), "--latents",
            s.latents()[0] + "," + s.latents()[1] + "," + s.latents()[2] + "," + s.latents()[3], "--guidance", "" + GUIDANCE,
            "--sigmas", joined(schedule.sigmas()), "--timesteps", joined(schedule.timesteps())));
        if (o.activations != DType.BF16) {
            out.println("torch: note: the twin runs under autocast bf16 (its only mode), ours with " + o.activations.safetensorsName());
        }
        return TorchTwin.run(cmd, out);
    }

    private static String joined(double[] v) {
        return Arrays.stream(v).mapToObj(x -> Double.toString(x)).collect(Collectors.joining(","));
    }

    /** Command-line options. */
    record Options(String preset, Device device, int frames, int steps, DType activations, String python, String torchScript,
                   boolean noTorch) {
        static Options parse(List<String> args) {
            String preset = "14b";
            Device device = Device.cuda(0);
            int frames = 81;
            int steps = 4;
            DType activations = DType.BF16;
            String python = "python3";
            String script = "bench/gpu/wan_generate_torch.py";
            boolean noTorch = false;
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                switch (a) {
                    case "--preset" -> preset = GpuTrainStepBench.Options.value(args, ++i, a);
                    case "--device" -> device = Device.parse(GpuTrainStepBench.Options.value(args, ++i, a));
                    case "--frames" -> frames = GpuTrainStepBench.Options.integer(args, ++i, a, 1);
                    case "--steps" -> steps = GpuTrainStepBench.Options.integer(args, ++i, a, 1);
                    case "--mixed_precision" -> activations = switch (GpuTrainStepBench.Options.value(args, ++i, a)) {
                        case "no" -> DType.F32;
                        case "bf16" -> DType.BF16;
                        default -> throw new IllegalArgumentException(a + ": expected no or bf16 (the twin's autocast)");
                    };
                    case "--python" -> python = GpuTrainStepBench.Options.value(args, ++i, a);
                    case "--torch-script" -> script = GpuTrainStepBench.Options.value(args, ++i, a);
                    case "--no-torch" -> noTorch = true;
                    default -> throw new IllegalArgumentException("unknown option '" + a + "' (see the class javadoc)");
                }
            }
            return new Options(preset, device, frames, steps, activations, python, script, noTorch);
        }
    }
}
