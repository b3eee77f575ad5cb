package dev.loraid.bench.gpu;

import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cuda.CudaProfile;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench/run gpu-wan-block}: one Wan 14B block, forward + backward with a rank-32 LoRA on every linear layer,
 * BF16, at 32,760 tokens, on our CUDA backend; then the same step in PyTorch (eager, SDPA flash attention,
 * bench/gpu/wan_block_torch.py) in a child process. Prints our time, PyTorch's, the block's largest GEMM and the
 * self-attention forward alone in TFLOP/s, and last {@code ratio=<pytorch ms ÷ ours>}.
 *
 * <p>Options: {@code --device cuda:0|cpu}, {@code --tiny} (small shapes: a smoke run, also on the CPU),
 * {@code -Dloraid.cuda.profile=true} adds device time per kernel over the timed steps (slower: time without it),
 * {@code --attention-only} (just the self-attention forward and backward figures, on the path that
 * {@code -Dloraid.cuda.attention} picks: scripts/gpu-check.sh compares the paths this way, one JVM each),
 * {@code --tokens N}, {@code --iters N}, {@code --warmup N}, {@code --python CMD}, {@code --torch-script PATH},
 * {@code --no-torch}. Also runs standalone ({@link #main}) with only the tensor and bench jars on the class path.
 */
public final class WanBlockGpuBench implements BenchCommand {
    @Override
    public String name() {
        return "gpu-wan-block";
    }

    @Override
    public String summary() {
        return "Wan 14B block fwd+bwd with rank-32 LoRA, BF16, 32,760 tokens: CUDA backend vs PyTorch CUDA";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) throws Exception {
        // the harness's PyTorch is the CPU one (DJL); this benchmark's anchor is PyTorch CUDA, run as a child process
        List<String> a = new ArrayList<>(args);
        if (!ctx.torchWanted()) {
            a.add("--no-torch"); // bench/run consumed the flag
        }
        int rc = run(a, ctx.out(), ctx.log());
        if (rc != 0) {
            throw new IllegalStateException("gpu-wan-block exited with " + rc);
        }
    }

    public static void main(String[] args) throws Exception {
        try {
            System.exit(run(new ArrayList<>(List.of(args)), System.out, System.err));
        } catch (IllegalArgumentException e) {
            System.err.println("gpu-wan-block: " + e.getMessage());
            System.exit(2);
        } catch (IllegalStateException e) {
            System.err.println("gpu-wan-block: " + e.getMessage());
            System.exit(1);
        }
    }

    static int run(List<String> args, PrintStream out, PrintStream log) throws Exception {
        Options o = Options.parse(args);
        WanBlockConfig cfg = o.tiny ? WanBlockConfig.tiny() : WanBlockConfig.wan14b();
        if (o.tokens > 0) {
            cfg = new WanBlockConfig(cfg.dim(), cfg.heads(), cfg.ffn(), o.tokens, cfg.textTokens(), cfg.rank(), cfg.loraAlpha());
        }
        Backend be = Backends.of(o.device);
        out.printf(Locale.ROOT, "config: dim=%d heads=%d ffn=%d tokens=%d text=%d rank=%d dtype=bf16 device=%s (%s)"
            + " attention=%s%n", cfg.dim(), cfg.heads(), cfg.ffn(), cfg.tokens(), cfg.textTokens(), cfg.rank(), o.device,
            be, System.getProperty("loraid.cuda.attention", "auto"));
        if (o.attentionOnly) {
            printAttention(cfg, be, o.iters, out);
            return 0;
        }
        double oursMs = measureOurs(cfg, be, o, out, log);
        if (o.device.isCpu() || o.noTorch) {
            out.printf(Locale.ROOT, "ours_ms=%.3f%nratio=n/a (PyTorch not run)%n", oursMs);
            return 0;
        }
        double torchMs = runTorch(cfg, o, out, log);
        out.printf(Locale.ROOT, "ours_ms=%.3f torch_ms=%.3f%n", oursMs, torchMs);
        out.printf(Locale.ROOT, "ratio=%.3f%n", torchMs / oursMs);
        return 0;
    }

    /** Median milliseconds of one forward + backward step, after warm-up; prints the per-kernel-class figures. */
    static double measureOurs(WanBlockConfig cfg, Backend be, Options o, PrintStream out, PrintStream log) {
        Device dev = be.device();
        WanBlockStep block = new WanBlockStep(cfg, be, DType.BF16);
        Tensor x = LoraLinear.init(be, Tensor.empty(dev, DType.BF16, cfg.tokens(), cfg.dim()), 1, 1);
        Tensor ctx = LoraLinear.init(be, Tensor.empty(dev, DType.BF16, cfg.textTokens(), cfg.dim()), 2, 1);
        Tensor dOut = LoraLinear.init(be, Tensor.empty(dev, DType.BF16, cfg.tokens(), cfg.dim()), 3, 1e-2);
        double[] ms = new double[o.iters];
        for (int i = -o.warmup; i < o.iters; i++) {
            if (i == 0 && CudaProfile.enabled()) {
                CudaProfile.reset(); // the timed steps only
            }
            be.synchronize();
            long t0 = System.nanoTime();
            try (MemoryScope step = MemoryScope.open()) {
                block.forward(x, ctx);
                block.backward(dOut, ctx);
                be.synchronize();
            }
            double t = (System.nanoTime() - t0) / 1e6;
            if (i >= 0) {
                ms[i] = t;
            }
            log.printf(Locale.ROOT, "ours step %d: %.3f ms%n", i, t);
        }
        if (CudaProfile.enabled()) {
            CudaProfile.report(out, o.iters);
        }
        double median = median(ms);
        double tflops = (cfg.gemmFlops() + cfg.attentionFlops()) / (median * 1e-3) / 1e12;
        out.printf(Locale.ROOT, "ours: %.3f ms/step (median of %d), %.1f TFLOP/s over GEMMs + attention%n", median,
            o.iters, tflops);
        out.printf(Locale.ROOT, "ours: ffn GEMM [%d x %d] x [%d x %d]: %.1f TFLOP/s%n", cfg.tokens(), cfg.dim(), cfg.dim(),
            cfg.ffn(), gemmTflops(cfg, be, o.iters));
        printAttention(cfg, be, o.iters, out);
        return median;
    }

    private static void printAttention(WanBlockConfig cfg, Backend be, int iters, PrintStream out) {
        double[] fwdBwd = attentionTflops(cfg, be, iters);
        out.printf(Locale.ROOT, "ours: self-attention forward: %.1f TFLOP/s%n", fwdBwd[0]);
        out.printf(Locale.ROOT, "ours: self-attention backward: %.1f TFLOP/s%n", fwdBwd[1]);
    }

    private static double gemmTflops(WanBlockConfig cfg, Backend be, int iters) {
        Device dev = be.device();
        try (MemoryScope s = MemoryScope.open()) {
            Tensor a = LoraLinear.init(be, Tensor.empty(dev, DType.BF16, cfg.tokens(), cfg.dim()), 4, 1);
            Tensor w = LoraLinear.init(be, Tensor.empty(dev, DType.BF16, cfg.ffn(), cfg.dim()), 5, 0.02);
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
                t[i] = LoraLinear.init(be, Tensor.empty(dev, DType.BF16, 1, l, cfg.heads(), cfg.headDim()), 6 + i, 1)
                    .permute(0, 2, 1, 3);
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

    /** Runs the PyTorch twin in a child process and returns its {@code torch_ms=}. */
    static double runTorch(WanBlockConfig cfg, Options o, PrintStream out, PrintStream log) throws Exception {
        Path script = Path.of(o.torchScript);
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("PyTorch script " + script + " not found (--torch-script)");
        }
        List<String> cmd = new ArrayList<>(List.of(o.python, script.toString(), "--dim", "" + cfg.dim(), "--heads",
            "" + cfg.heads(), "--ffn", "" + cfg.ffn(), "--tokens", "" + cfg.tokens(), "--text", "" + cfg.textTokens(),
            "--rank", "" + cfg.rank(), "--iters", "" + o.iters, "--warmup", "" + o.warmup));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        double torchMs = Double.NaN;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.println("torch: " + line);
                if (line.startsWith("torch_ms=")) {
                    torchMs = Double.parseDouble(line.substring("torch_ms=".length()).trim());
                }
            }
        }
        int rc = p.waitFor();
        if (rc != 0 || Double.isNaN(torchMs)) {
            throw new IllegalStateException("PyTorch run failed (exit " + rc + ", command " + cmd + ")");
        }
        return torchMs;
    }

    /** Command-line options. */
    record Options(Device device, boolean tiny, int tokens, int iters, int warmup, String python, String torchScript,
                   boolean noTorch, boolean attentionOnly) {
        static Options parse(List<String> args) {
            Device device = Device.cuda(0);
            boolean tiny = false;
            boolean noTorch = false;
            boolean attentionOnly = false;
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
                    case "--device" -> device = Device.parse(value(args, ++i, a));
                    case "--tokens" -> tokens = Integer.parseInt(value(args, ++i, a));
                    case "--iters" -> iters = Integer.parseInt(value(args, ++i, a));
                    case "--warmup" -> warmup = Integer.parseInt(value(args, ++i, a));
                    case "--python" -> python = value(args, ++i, a);
                    case "--torch-script" -> script = value(args, ++i, a);
                    default -> throw new IllegalArgumentException("unknown option '" + a + "' (see the class javadoc)");
                }
            }
            return new Options(device, tiny, tokens, iters, warmup, python, script, noTorch, attentionOnly);
        }

        private static String value(List<String> args, int i, String flag) {
            if (i >= args.size()) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            return args.get(i);
        }
    }
}
