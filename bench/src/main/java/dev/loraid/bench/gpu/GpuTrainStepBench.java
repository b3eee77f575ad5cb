package dev.loraid.bench.gpu;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.LrSchedules;
import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.core.Reporter;
import dev.loraid.core.data.TrainSample;
import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.lora.NetworkModule;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.core.train.GradientSync;
import dev.loraid.core.train.Noising;
import dev.loraid.core.train.OptimizerConfig;
import dev.loraid.core.train.Optimizers;
import dev.loraid.core.train.TrainModels;
import dev.loraid.core.train.TrainStep;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cuda.CudaBackend;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanKeys;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.WanWeights;
import dev.loraid.wan.quant.Fp8Load;
import dev.loraid.wan.swap.ActivationOffload;
import dev.loraid.wan.swap.BlockSwap;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code bench/run gpu-train-step}: one LoRA training step of a full Wan 2.1 14B model (t2v-14B: 40 blocks, dim 5120,
 * random bf16 weights drawn on the device, no file) at 480p × 81 frames (latents [16, 21, 60, 104]: 32,760 tokens) with
 * 512 text tokens, rank 32 alpha 32 on all 400 block Linears, gradient checkpointing and AdamW with gradient clipping —
 * through the objects and the step code {@code loraid train} runs ({@link LoraNetwork#create}, {@link Optimizers#of},
 * {@link TrainStep#accumulate} + {@link TrainStep#update}); then the PyTorch twin
 * (bench/gpu/wan_train_step_torch.py, a child process: bf16 weights and autocast, per-block checkpointing, AdamW) at the
 * same shapes. Prints each side's step time and peak device memory, and last {@code ratio=<pytorch ms ÷ ours>}.
 *
 * <p>Options: {@code --preset 14b|a14b|tiny|tiny-a14b} ({@code tiny}: the 4-block golden config at latents [4, 1, 4, 6],
 * a smoke run that works on the CPU; {@code a14b}: Wan 2.2 t2v-A14B's two experts, one LoRA trained through both as
 * {@code train --dit_high_noise} does, the experts alternating every step (the worst case for switching) and the time
 * of making each step's expert resident printed beside the step), {@code --offload_inactive_dit} (with two experts:
 * the inactive one on the host, as {@code train --offload_inactive_dit}), {@code --device cuda:0|cpu}, {@code --frames F}
 * (video frames, 4k + 1: the latent has (F − 1)/4 + 1 frames; default 81), {@code --blocks_to_swap N} (as {@code train}:
 * the weights drawn into host memory, {@link BlockSwap}; one expert only),
 * {@code --fp8_base} (block Linear weights cast to E4M3 as {@code train --fp8_base}), {@code --no-checkpointing},
 * {@code --gradient_checkpointing_cpu_offload} (the block checkpoints in pinned host memory, {@link ActivationOffload};
 * ours only: the twin keeps its checkpoints on the device),
 * {@code --iters N}, {@code --warmup N}, {@code --python CMD}, {@code --torch-script PATH}, {@code --no-torch},
 * {@code --network_module networks.loha|networks.lokr} (ours only, as {@code train --network_module}: the twin trains a
 * LoRA, so it is not run), {@code --optimizer_type AdamW|AdamW8bit} (ours only: the twin keeps torch's AdamW; 8-bit moments save about 0.9 GB of
 * the 14B LoRA's 1.2 GB of fp32 moments). {@code -Dloraid.cuda.memory_limit=24g} makes our allocator fail as a 24 GB
 * card would.
 */
public final class GpuTrainStepBench implements BenchCommand {
    private static final long SEED = 42;
    /** The high-noise expert's weights: streams far from the low-noise one's ({@link DeviceWeights}: key k from seed + k). */
    private static final long HIGH_NOISE_SEED = SEED + 1_000_000;

    @Override
    public String name() {
        return "gpu-train-step";
    }

    @Override
    public String summary() {
        return "Wan 2.1 14B LoRA training step (40 blocks, 480p x 81 frames, rank 32, checkpointing, AdamW) through "
            + "TrainStep on the device vs PyTorch CUDA; peak device memory of both";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) throws Exception {
        GpuBenchEntry.fromHarness(name(), ctx, args, GpuTrainStepBench::run);
    }

    public static void main(String[] args) throws Exception {
        GpuBenchEntry.main("gpu-train-step", args, GpuTrainStepBench::run);
    }

    /** The shapes of one run. */
    record Shapes(String preset, WanVariant variant, long[] latents, int textTokens, int rank) {
        static Shapes of(String preset, int frames) {
            if ((frames - 1) % 4 != 0 || frames < 1) {
                throw new IllegalArgumentException("--frames " + frames + ": expected 4k + 1 (1, 5, ..., 81)");
            }
            long latentFrames = (frames - 1) / 4 + 1;
            long[] full = {16, latentFrames, 60, 104};
            long[] tiny = {4, Math.min(latentFrames, 2), 4, 6};
            return switch (preset) {
                case "14b" -> new Shapes(preset, WanPresets.get("t2v-14B"), full, 512, 32);
                case "a14b" -> new Shapes(preset, WanPresets.get("t2v-A14B"), full, 512, 32);
                case "tiny" -> new Shapes(preset, WanPresets.get("tiny"), tiny, 8, 4);
                case "tiny-a14b" -> new Shapes(preset, WanPresets.get("tiny-A14B"), tiny, 8, 4);
                default -> throw new IllegalArgumentException("--preset " + preset + ": expected 14b, a14b, tiny or tiny-a14b");
            };
        }

        WanConfig config() {
            return variant.config();
        }

        /** Two experts (Wan 2.2 A14B): one LoRA trained through both, batches routed by timestep (training.md §1.7). */
        boolean dual() {
            return variant.hasExperts();
        }

        long tokens() {
            return latents[1] / config().patchT() * (latents[2] / config().patchH()) * (latents[3] / config().patchW());
        }
    }

    /**
     * Our side's figures: the median step time, the last loss, the peak device memory (bytes; -1 on the CPU), the
     * block transfers of the last step, and with two experts the median time of making the step's expert resident
     * (NaN with one) and each timed step's loss.
     */
    record Ours(double medianMs, double loss, long peakBytes, long transfersPerStep, double medianSwitchMs, double[] losses) {
    }

    static int run(List<String> args, PrintStream out, PrintStream log) throws Exception {
        Options o = Options.parse(args);
        Shapes s = Shapes.of(o.preset, o.frames);
        Backend be = Backends.of(o.device);
        WanConfig c = s.config();
        long row = s.tokens() * c.dim() * 4L;
        out.printf(Locale.ROOT, "config: %s, latents %s = %d tokens, text %d, %s rank %d, AdamW, checkpointing=%s, weights=%s, "
                + "activations=bf16, blocks_to_swap=%d, experts=%s, device=%s (%s), memory_limit=%s%n", c.describe(),
            java.util.Arrays.toString(s.latents()), s.tokens(), s.textTokens(), o.network().label(), s.rank(),
            o.checkpointing + (o.activationOffload ? " (block inputs in host memory)" : ""),
            o.fp8 ? "fp8 e4m3 blocks + bf16" : "bf16", o.blocksToSwap,
            s.dual() ? "2 (boundary " + s.variant().boundary() + (o.offload ? ", offload_inactive_dit)" : ", both resident)") : "1",
            o.device, be,
            System.getProperty("loraid.cuda.memory_limit", "none"));
        out.printf(Locale.ROOT, "estimate: checkpointed block inputs %d blocks x [%d, %d] f32 = %.1f GiB; block weights %.1f GiB%n",
            c.numLayers(), s.tokens(), c.dim(), (double) c.numLayers() * row / (1L << 30),
            blockWeightBytes(c, o.fp8) * (double) (c.numLayers() - o.blocksToSwap) / (1L << 30));
        Ours ours = measureOurs(s, be, o, out, log);
        String oursPeak = ours.peakBytes() < 0 ? "n/a (cpu)" : String.format(Locale.ROOT, "%.2f GiB", ours.peakBytes() / 1073741824.0);
        out.printf(Locale.ROOT, "ours: %.1f ms/step (median of %d), loss %.6f, peak device memory %s (reserved), %d block "
            + "transfers per step%n", ours.medianMs(), o.iters, ours.loss(), oursPeak, ours.transfersPerStep());
        if (s.dual()) {
            out.printf(Locale.ROOT, "ours: expert switch %.1f ms (median; the experts alternate every step, %s)%n",
                ours.medianSwitchMs(), o.offload ? "the inactive one back on its host weights and the other copied to the device"
                    : "both resident: no move");
        }
        if (o.device.isCpu() || o.noTorch) {
            out.printf(Locale.ROOT, "peak_memory: ours=%s torch=n/a%n", oursPeak);
            out.printf(Locale.ROOT, "ours_ms=%.3f%nratio=n/a (PyTorch not run)%n", ours.medianMs());
            return 0;
        }
        Map<String, String> torch = runTorch(s, o, out);
        double torchMs = Double.parseDouble(torch.get("torch_ms"));
        out.printf(Locale.ROOT, "peak_memory: ours=%s torch=%s GiB (reserved; allocated %s GiB)%n", oursPeak,
            torch.getOrDefault("torch_peak_reserved_gib", "?"), torch.getOrDefault("torch_peak_allocated_gib", "?"));
        out.printf(Locale.ROOT, "ours_ms=%.3f torch_ms=%.3f%n", ours.medianMs(), torchMs);
        out.printf(Locale.ROOT, "ratio=%.3f%n", torchMs / ours.medianMs());
        return 0;
    }

    /** Bytes of one block's weights: the Linear weights in bf16 (or fp8), the rest (norms, biases, modulation) bf16. */
    private static long blockWeightBytes(WanConfig c, boolean fp8) {
        long bytes = 0;
        for (Map.Entry<String, long[]> e : WanKeys.expectedShapes(c).entrySet()) {
            if (e.getKey().startsWith("blocks.0.")) {
                long n = 1;
                for (long d : e.getValue()) {
                    n *= d;
                }
                bytes += n * (fp8 && Fp8Load.isTarget(e.getKey(), e.getValue()) ? 1 : 2);
            }
        }
        return bytes;
    }

    /** The trainer's objects over random device weights; times {@code --iters} steps after {@code --warmup}. */
    static Ours measureOurs(Shapes s, Backend be, Options o, PrintStream out, PrintStream log) {
        WanConfig c = s.config();
        Device device = be.device();
        // weights on the host as a checkpoint's: block swap streams them in, offloading adopts them again at a switch
        boolean host = o.blocksToSwap > 0 || s.dual() && o.offload;
        if (o.blocksToSwap > 0 && s.dual()) {
            throw new IllegalArgumentException("--blocks_to_swap with two experts (--preset " + s.preset() + ") is not "
                + "supported, as in train");
        }
        long t0 = System.nanoTime();
        Map<String, Tensor> weights = DeviceWeights.random(be, WanKeys.expectedShapes(c), k -> true, DType.BF16, SEED, o.fp8, host);
        WanModel model = WanModel.load(c, new WanWeights(weights, "random " + s.preset() + " weights"));
        LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), o.network(), s.rank(),
            s.rank(), LoraAdapter.Dropouts.NONE, -1, SEED, Reporter.SILENT);
        long[] transfers = {0};
        if (host) {
            net.moveTo(device);
        }
        if (o.blocksToSwap > 0) {
            BlockSwap.install(model, device, o.blocksToSwap, (evict, fetch) -> transfers[0]++);
        }
        TrainModels models = TrainModels.of(model);
        if (s.dual()) { // the high-noise expert: other weights, the same LoRA parameters; on the host when offloading
            Map<String, Tensor> highWeights = DeviceWeights.random(be, WanKeys.expectedShapes(c), k -> true, DType.BF16,
                HIGH_NOISE_SEED, o.fp8, o.offload);
            WanModel high = WanModel.load(c, new WanWeights(highWeights, "random " + s.preset() + " high-noise weights"));
            net.attachSameTo(high);
            models = TrainModels.of(model, high, s.variant().boundary(), device, o.offload);
        }
        for (WanModel m : models.all()) {
            m.setGradientCheckpointing(o.checkpointing);
            if (o.activationOffload) { // as train --gradient_checkpointing_cpu_offload on a GPU
                m.setCheckpointOffload(ActivationOffload.to(device));
            }
            m.setActivationDType(DType.BF16); // train --mixed_precision bf16, as the twin's autocast
        }
        net.setTraining(true);
        Map<String, Parameter> params = net.trainableParameters();
        OptimizerConfig oc = new OptimizerConfig(o.optimizer, List.of("weight_decay=0.01"), 1e-4, "constant", "0", "0", 1, 1.0, null,
            null, null, 1.0);
        Optimizer optimizer = Optimizers.of(params, oc, null);
        TrainStep step = new TrainStep(params.values(), optimizer, new LrScheduler(optimizer, LrSchedules.constant()), 1.0,
            GradientSync.LOCAL, null);
        Backend cpu = Backends.cpu();
        Tensor latents = DeviceWeights.normal(cpu, DType.BF16, 1, 1, 0, s.latents());
        Tensor t5 = DeviceWeights.normal(cpu, DType.BF16, 2, 0.2, 0, s.textTokens(), c.textDim());
        TrainSample sample = new TrainSample("bench", latents, t5, null, null, null);
        // one expert: σ 0.6; two: the experts alternate, each step's noise on its expert's side of the boundary
        Noising lowNoise = new Noising(0.6, 600.0, 1.0);
        Noising highNoise = new Noising(0.95, 950.0, 1.0);
        be.synchronize();
        log.printf(Locale.ROOT, "ours: %d LoRA modules, model%s ready in %.1f s%n", net.adapters().size(), s.dual() ? "s" : "",
            (System.nanoTime() - t0) / 1e9);
        double[] ms = new double[o.iters];
        double[] switchMs = new double[s.dual() ? o.iters : 0];
        double[] losses = new double[o.iters];
        double loss = Double.NaN;
        long swapsBefore = 0;
        for (int i = -o.warmup; i < o.iters; i++) {
            boolean high = s.dual() && (i + o.warmup) % 2 == 0;
            Noising noising = high ? highNoise : lowNoise;
            long t0Switch = System.nanoTime();
            WanModel m = models.model(models.isHigh(noising.timestep())); // the trainer's routing (Trainer, §1.7)
            be.synchronize();
            double switched = (System.nanoTime() - t0Switch) / 1e6;
            swapsBefore = transfers[0];
            long t1 = System.nanoTime();
            loss = step.accumulate(m, List.of(sample), new Noising[] {noising}, SEED, i + o.warmup, 1.0);
            step.update();
            be.synchronize();
            double t = (System.nanoTime() - t1) / 1e6;
            if (i >= 0) {
                ms[i] = t;
                losses[i] = loss;
                if (s.dual()) {
                    switchMs[i] = switched;
                }
            }
            out.printf(Locale.ROOT, "ours step %d%s: %.1f ms, loss %.6f%s%n", i, s.dual() ? (high ? " (high-noise expert)"
                : " (low-noise expert)") : "", t, loss, s.dual() ? String.format(Locale.ROOT, ", switch %.1f ms", switched) : "");
        }
        long peak = be instanceof CudaBackend cuda ? cuda.peakBytesReserved() : -1;
        return new Ours(WanBlockGpuBench.median(ms), loss, peak, transfers[0] - swapsBefore,
            s.dual() ? WanBlockGpuBench.median(switchMs) : Double.NaN, losses);
    }

    /**
     * Runs the PyTorch twin ({@link TorchTwin}) and returns its {@code torch_…} values (step time, peak memory). It warms
     * up at least once, so that its first step's library start-up is not timed even when ours is not warmed up.
     */
    static Map<String, String> runTorch(Shapes s, Options o, PrintStream out) throws Exception {
        WanConfig c = s.config();
        List<String> cmd = new ArrayList<>(List.of(o.python, o.torchScript, "--layers", "" + c.numLayers(), "--dim", "" + c.dim(),
            "--ffn", "" + c.ffnDim(), "--heads", "" + c.numHeads(), "--text-dim", "" + c.textDim(), "--text-len",
            "" + c.textLen(), "--text", "" + s.textTokens(), "--in-dim", "" + c.inDim(), "--latents",
            s.latents()[0] + "," + s.latents()[1] + "," + s.latents()[2] + "," + s.latents()[3], "--rank", "" + s.rank(),
            "--iters", "" + o.iters, "--warmup", "" + Math.max(1, o.warmup)));
        if (!o.checkpointing) {
            cmd.add("--no-checkpointing");
        }
        if (s.dual()) {
            out.println("torch: note: the twin trains one expert (no second model, no switch)");
        }
        if (o.blocksToSwap > 0) {
            out.println("torch: note: the twin keeps every block on the device (its block swap is musubi's, not run here)");
        }
        return TorchTwin.run(cmd, out);
    }

    /** Command-line options. */
    record Options(String preset, Device device, int frames, int blocksToSwap, boolean fp8, boolean offload,
                   boolean checkpointing, boolean activationOffload, int iters, int warmup, String python, String torchScript,
                   boolean noTorch, String optimizer, NetworkModule network) {
        static Options parse(List<String> args) {
            String preset = "14b";
            Device device = Device.cuda(0);
            int frames = 81;
            int swap = 0;
            boolean fp8 = false;
            boolean offload = false;
            boolean checkpointing = true;
            boolean activationOffload = false;
            int iters = 2;
            int warmup = 1;
            String python = "python3";
            String script = "bench/gpu/wan_train_step_torch.py";
            boolean noTorch = false;
            String optimizer = "AdamW";
            NetworkModule network = NetworkModule.LORA;
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                switch (a) {
                    case "--preset" -> preset = value(args, ++i, a);
                    case "--device" -> device = Device.parse(value(args, ++i, a));
                    case "--frames" -> frames = integer(args, ++i, a, 1);
                    case "--blocks_to_swap" -> swap = integer(args, ++i, a, 0);
                    case "--fp8_base" -> fp8 = true;
                    case "--offload_inactive_dit" -> offload = true;
                    case "--no-checkpointing" -> checkpointing = false;
                    case "--gradient_checkpointing_cpu_offload" -> activationOffload = true;
                    case "--iters" -> iters = integer(args, ++i, a, 1);
                    case "--warmup" -> warmup = integer(args, ++i, a, 0);
                    case "--python" -> python = value(args, ++i, a);
                    case "--torch-script" -> script = value(args, ++i, a);
                    case "--no-torch" -> noTorch = true;
                    case "--optimizer_type" -> optimizer = value(args, ++i, a);
                    case "--network_module" -> network = NetworkModule.of(value(args, ++i, a));
                    default -> throw new IllegalArgumentException("unknown option '" + a + "' (see the class javadoc)");
                }
            }
            // the twin trains a LoRA and keeps its checkpoints on the device: other runs are timed on our side alone
            return new Options(preset, device, frames, swap, fp8, offload, checkpointing, activationOffload, iters, warmup,
                python, script, noTorch || network != NetworkModule.LORA || activationOffload, optimizer, network);
        }

        static String value(List<String> args, int i, String flag) {
            if (i >= args.size()) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            return args.get(i);
        }

        static int integer(List<String> args, int i, String flag, int min) {
            String v = value(args, i, flag);
            try {
                int n = Integer.parseInt(v);
                if (n >= min) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
            throw new IllegalArgumentException(flag + " " + v + ": expected an integer ≥ " + min);
        }
    }
}
