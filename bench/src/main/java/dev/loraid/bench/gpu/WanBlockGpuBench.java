package dev.loraid.bench.gpu;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.optim.GradClip;
import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cuda.CudaProfile;
import dev.loraid.wan.RopeTables;
import dev.loraid.wan.WanBlock;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanKeys;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanTaps;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code bench/run gpu-wan-block}: one Wan 14B block, forward + backward, at 32,760 tokens, through the path users get:
 * the real {@link WanBlock} of a {@link WanModel} with BF16 frozen weights, autograd, and the trainer's LoRA adapters
 * ({@link LoraNetwork#create}: rank 32 on all ten Linears, {@link LoraAdapter}) — the same objects {@code loraid train}
 * builds; then the same step in PyTorch (eager, BF16 activations, SDPA flash attention, bench/gpu/wan_block_torch.py)
 * in a child process. Prints our time, PyTorch's, and last {@code ratio=<pytorch ms ÷ ours>}; then, as kernel-level
 * references (not the product path), the block's largest GEMM and the self-attention alone in BF16, in TFLOP/s.
 *
 * <p>Precision: the model runs BF16 activations over the BF16 weights, as {@code train --mixed_precision bf16} does
 * ({@link WanModel#setActivationDType}: BF16 GEMM inputs and outputs and BF16 attention, fp32 norms, statistics and
 * residual stream), like the twin under autocast. {@code --bf16-residual} rounds the residual stream to bf16 as musubi does.
 *
 * <p>Options: {@code --device cuda:0|cpu}, {@code --tiny} (small shapes: a smoke run, also on the CPU),
 * {@code --checkpointing} (the block recomputed in backward, as {@code train --gradient_checkpointing}),
 * {@code --bf16-residual}, {@code -Dloraid.cuda.profile=true} adds device time per kernel over the timed steps (slower:
 * time without it), {@code --attention-only} (just the self-attention forward and backward figures, on the path that
 * {@code -Dloraid.cuda.attention} picks: scripts/gpu-check.sh compares the paths this way, one JVM each),
 * {@code --tokens N}, {@code --iters N}, {@code --warmup N}, {@code --python CMD}, {@code --torch-script PATH},
 * {@code --no-torch}. Also runs standalone ({@link #main}) with the loraid jars on the class path.
 */
public final class WanBlockGpuBench implements BenchCommand {
    @Override
    public String name() {
        return "gpu-wan-block";
    }

    @Override
    public String summary() {
        return "Wan 14B block fwd+bwd (WanBlock + autograd + the trainer's rank-32 LoRA), bf16 weights, 32,760 tokens: "
            + "CUDA backend vs PyTorch CUDA";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) throws Exception {
        GpuBenchEntry.fromHarness(name(), ctx, args, WanBlockGpuBench::run);
    }

    public static void main(String[] args) throws Exception {
        GpuBenchEntry.main("gpu-wan-block", args, WanBlockGpuBench::run);
    }

    static int run(List<String> args, PrintStream out, PrintStream log) throws Exception {
        Options o = Options.parse(args);
        WanBlockConfig cfg = o.tiny ? WanBlockConfig.tiny() : WanBlockConfig.wan14b();
        if (o.tokens > 0) {
            cfg = new WanBlockConfig(cfg.dim(), cfg.heads(), cfg.ffn(), o.tokens, cfg.textTokens(), cfg.rank(), cfg.loraAlpha());
        }
        Backend be = Backends.of(o.device);
        out.printf(Locale.ROOT, "config: dim=%d heads=%d ffn=%d tokens=%d text=%d rank=%d weights=bf16 activations=bf16%s"
            + " checkpointing=%s device=%s (%s) attention=%s%n", cfg.dim(), cfg.heads(), cfg.ffn(), cfg.tokens(),
            cfg.textTokens(), cfg.rank(), o.bf16Residual ? " residual=bf16" : "", o.checkpointing, o.device, be,
            System.getProperty("loraid.cuda.attention", "auto"));
        if (o.attentionOnly) {
            printAttention(cfg, be, o.iters, out);
            return 0;
        }
        double oursMs = measureOurs(cfg, be, o, out, log).medianMs();
        if (o.device.isCpu() || o.noTorch) {
            out.printf(Locale.ROOT, "ours_ms=%.3f%nratio=n/a (PyTorch not run)%n", oursMs);
            return 0;
        }
        double torchMs = runTorch(cfg, o, out);
        out.printf(Locale.ROOT, "ours_ms=%.3f torch_ms=%.3f%n", oursMs, torchMs);
        out.printf(Locale.ROOT, "ratio=%.3f%n", torchMs / oursMs);
        return 0;
    }

    /** Our figures: the median step time and, for tests, the norm of the LoRA gradients of the last step. */
    record Ours(double medianMs, double loraGradNorm) {
    }

    /**
     * Times forward + backward of the real block (median of {@code --iters} after {@code --warmup}); prints the
     * per-kernel-class figures. The gradient flows into the input x and every LoRA factor, not into the frozen weights
     * or the text context, as in the twin.
     */
    static Ours measureOurs(WanBlockConfig cfg, Backend be, Options o, PrintStream out, PrintStream log) {
        WanConfig wc = cfg.wanConfig();
        WanModel model = new WanModel(wc);
        // only the block is loaded: the embeddings and the head stay declared (no memory)
        model.loadStateDict(StateSource.of(DeviceWeights.random(be, WanKeys.expectedShapes(wc), k -> k.startsWith("blocks.0."),
            DType.BF16, 1000, false, false)), false);
        model.setBf16Residual(o.bf16Residual);
        model.setActivationDType(DType.BF16);
        LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), cfg.rank(),
            cfg.loraAlpha(), LoraAdapter.Dropouts.NONE, 7, Reporter.SILENT);
        net.setTraining(true);
        Collection<Parameter> lora = net.trainableParameters().values();
        // up starts at zero (training.md §2.3): give it values so that the step does the work of a trained LoRA
        for (LoraAdapter a : net.loraAdapters().values()) {
            a.up().copyFrom(DeviceWeights.normal(be, DType.F32, 50 + a.loraName().hashCode(), 0.05, 0, a.up().shape().toArray()));
        }
        WanBlock block = model.blocks().getFirst();
        int[] grid = cfg.grid();
        RopeTables rope = RopeTables.of(wc.headDim(), grid[0], grid[1], grid[2]).to(be.device());
        Tensor x = DeviceWeights.normal(be, DType.F32, 1, 1, 0, cfg.tokens(), cfg.dim());
        Var e0 = Var.constant(DeviceWeights.normal(be, DType.F32, 2, 0.1, 0, 1, 6, cfg.dim()));
        Var ctx = Var.constant(DeviceWeights.normal(be, DType.F32, 3, 1, 0, cfg.textTokens(), cfg.dim()));
        Tensor dOut = DeviceWeights.normal(be, DType.F32, 4, 1e-2, 0, cfg.tokens(), cfg.dim());
        double[] ms = new double[o.iters];
        double norm = Double.NaN;
        for (int i = -o.warmup; i < o.iters; i++) {
            if (i == 0 && CudaProfile.enabled()) {
                CudaProfile.reset(); // the timed steps only
            }
            lora.forEach(Parameter::zeroGrad);
            be.synchronize();
            long t0 = System.nanoTime();
            try (MemoryScope step = MemoryScope.open()) {
                Var in = Var.leaf(x);
                Var y = o.checkpointing ? block.forwardRecomputed(in, e0, ctx, rope, null) : block.forward(in, e0, ctx, rope, WanTaps.NONE);
                y.backward(dOut);
                be.synchronize();
            }
            double t = (System.nanoTime() - t0) / 1e6;
            if (i >= 0) {
                ms[i] = t;
            }
            log.printf(Locale.ROOT, "ours step %d: %.3f ms%n", i, t);
        }
        norm = GradClip.globalNorm(lora);
        if (CudaProfile.enabled()) {
            CudaProfile.report(out, o.iters);
        }
        double median = median(ms);
        double tflops = (cfg.gemmFlops() + cfg.attentionFlops()) / (median * 1e-3) / 1e12;
        out.printf(Locale.ROOT, "ours: %.3f ms/step (median of %d), %.1f TFLOP/s over GEMMs + attention (LoRA grad norm %.6g)%n",
            median, o.iters, tflops, norm);
        out.printf(Locale.ROOT, "kernel reference: ffn GEMM bf16 [%d x %d] x [%d x %d]: %.1f TFLOP/s%n", cfg.tokens(), cfg.dim(),
            cfg.dim(), cfg.ffn(), gemmTflops(cfg, be, o.iters));
        printAttention(cfg, be, o.iters, out);
        return new Ours(median, norm);
    }

    private static void printAttention(WanBlockConfig cfg, Backend be, int iters, PrintStream out) {
        double[] fwdBwd = attentionTflops(cfg, be, iters);
        out.printf(Locale.ROOT, "kernel reference: self-attention forward bf16: %.1f TFLOP/s%n", fwdBwd[0]);
        out.printf(Locale.ROOT, "kernel reference: self-attention backward bf16: %.1f TFLOP/s%n", fwdBwd[1]);
    }

    private static double gemmTflops(WanBlockConfig cfg, Backend be, int iters) {
        Device dev = be.device();
        try (MemoryScope s = MemoryScope.open()) {
            Tensor a = DeviceWeights.normal(be, DType.BF16, 4, 1, 0, cfg.tokens(), cfg.dim());
            Tensor w = DeviceWeights.normal(be, DType.BF16, 5, 0.02, 0, cfg.ffn(), cfg.dim());
            Tensor c = Tensor.empty(dev, DType.BF16, cfg.tokens(), cfg.ffn());
            double[] ms = time(be, iters, () -> be.matmul(a, w.transpose(0, 1), c, 1, 0, null));
            return 2.0 * cfg.tokens() * cfg.dim() * cfg.ffn() / (median(ms) * 1e-3) / 1e12;
        }
    }

    /** Self-attention forward and backward (2.5× the forward's FLOPs) in TFLOP/s, on the models' [B, L, H, D] layout. */
    private static double[] attentionTflops(WanBlockConfig cfg, Backend be, int iters) {
        Device dev = be.device();
        try (MemoryScope s = MemoryScope.open()) {
            long l = cfg.tokens();
            Tensor[] t = new Tensor[8]; // q, k, v, out, dOut, dq, dk, dv
            for (int i = 0; i < t.length; i++) {
                t[i] = DeviceWeights.normal(be, DType.BF16, 6 + i, 1, 0, 1, l, cfg.heads(), cfg.headDim()).permute(0, 2, 1, 3);
            }
            Tensor lse = Tensor.empty(dev, DType.F32, 1, cfg.heads(), l);
            double scale = 1 / Math.sqrt(cfg.headDim());
            double[] fwd = time(be, iters, () -> be.attention(t[0], t[1], t[2], scale, null, t[3], lse));
            double[] bwd = time(be, iters, () -> be.attentionBackward(t[0], t[1], t[2], t[3], t[4], lse, scale, null,
                t[5], t[6], t[7]));
            double flops = cfg.selfAttentionForwardFlops();
            return new double[] {flops / (median(fwd) * 1e-3) / 1e12, 2.5 * flops / (median(bwd) * 1e-3) / 1e12};
        }
    }

    private static double[] time(Backend be, int iters, Runnable r) {
        r.run();
        double[] ms = new double[Math.max(1, iters)];
        for (int i = 0; i < ms.length; i++) {
            be.synchronize();
            long t0 = System.nanoTime();
            r.run();
            be.synchronize();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        return ms;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Runs the PyTorch twin ({@link TorchTwin}) at the same shapes and returns its {@code torch_ms=}. */
    static double runTorch(WanBlockConfig cfg, Options o, PrintStream out) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(o.python, o.torchScript, "--dim", "" + cfg.dim(), "--heads",
            "" + cfg.heads(), "--ffn", "" + cfg.ffn(), "--tokens", "" + cfg.tokens(), "--text", "" + cfg.textTokens(),
            "--rank", "" + cfg.rank(), "--iters", "" + o.iters, "--warmup", "" + o.warmup));
        return Double.parseDouble(TorchTwin.run(cmd, out).get("torch_ms"));
    }

    /** Command-line options. */
    record Options(Device device, boolean tiny, int tokens, int iters, int warmup, String python, String torchScript,
                   boolean noTorch, boolean attentionOnly, boolean checkpointing, boolean bf16Residual) {
        static Options parse(List<String> args) {
            Device device = Device.cuda(0);
            boolean tiny = false;
            boolean noTorch = false;
            boolean attentionOnly = false;
            boolean checkpointing = false;
            boolean bf16Residual = false;
            int tokens = 0;
            int iters = 5;
            int warmup = 2;
            String python = "python3";
            String script = "bench/gpu/wan_block_torch.py";
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                switch (a) {
                    case "--tiny" -> tiny = true;
                    case "--no-torch" -> noTorch = true;
                    case "--attention-only" -> attentionOnly = true;
                    case "--checkpointing" -> checkpointing = true;
                    case "--bf16-residual" -> bf16Residual = true;
                    case "--device" -> device = Device.parse(value(args, ++i, a));
                    case "--tokens" -> tokens = Integer.parseInt(value(args, ++i, a));
                    case "--iters" -> iters = Integer.parseInt(value(args, ++i, a));
                    case "--warmup" -> warmup = Integer.parseInt(value(args, ++i, a));
                    case "--python" -> python = value(args, ++i, a);
                    case "--torch-script" -> script = value(args, ++i, a);
                    default -> throw new IllegalArgumentException("unknown option '" + a + "' (see the class javadoc)");
                }
            }
            return new Options(device, tiny, tokens, iters, warmup, python, script, noTorch, attentionOnly, checkpointing,
                bf16Residual);
        }

        private static String value(List<String> args, int i, String flag) {
            if (i >= args.size()) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            return args.get(i);
        }
    }
}
