package dev.loraid.bench.vae;

import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Options;
import dev.loraid.bench.harness.ProcessMemory;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.Stopwatch;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.vae.VaeCheckpoint;
import dev.loraid.wan.vae.VaeMemory;
import dev.loraid.wan.vae.WanVae;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code bench/run vae-encode}: the Wan 2.1 VAE encoder with the real channel config (dim 96, z 16, dim_mult
 * [1, 2, 4, 4], 2 residual blocks, temporal downsample [false, true, true]; random weights) on a 17-frame 256×256
 * clip, through {@link WanVae#encode} as {@code loraid cache} calls it: chunk by chunk with the feature cache (spec
 * vae-t5.md §1.4). PyTorch runs the same encoder written with NDArray ops the way upstream's {@code WanVAE_.encode}
 * runs it (the same chunks and cache, conv3d/conv2d through ATen), fp32 on both sides.
 * Each side's last timed output goes to the cross-check (mu and log-variance compared); ours also reports its counted
 * activation peak ({@link VaeMemory}), and the rise of the process's peak RSS over each side's series is measured the
 * same way for both. The headline is {@code ratio=<pytorch time ÷ ours>}.
 */
public final class VaeEncodeBench implements BenchCommand {
    private static final long SEED = 96;

    @Override
    public String name() {
        return "vae-encode";
    }

    @Override
    public String summary() {
        return "Wan 2.1 VAE encode (real config, random weights), 17x256x256, vs the same encoder in PyTorch "
            + "[--frames N] [--height N] [--width N] [--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        int frames = Options.intOption(args, "--frames", 17);
        int height = Options.intOption(args, "--height", 256);
        int width = Options.intOption(args, "--width", 256);
        int warmup = Options.intOption(args, "--warmup", 1);
        Series series = ctx.series(args, 1, 0); // warm-up runs are made here, outside the RSS measurements
        if (frames < 1 || height < 8 || width < 8 || height % 8 != 0 || width % 8 != 0) {
            throw new IllegalArgumentException("--frames must be ≥ 1 and --height/--width positive multiples of 8, got "
                + frames + ", " + height + ", " + width);
        }
        VaeEncodeCase data = VaeEncodeCase.random(VaeEncodeCase.REAL, frames, height, width, SEED);
        WanVae vae = VaeCheckpoint.model(data.weights(), "random real-config VAE");
        String label = String.format(Locale.ROOT, "vae-encode %dx%dx%d f32 (%s)", frames, height, width, vae.config());

        // each side's timed series runs under a restarted RSS high-water mark and keeps its last output for the
        // cross-check, so that --runs 1 --warmup 0 costs one encode per side (minutes at 17x256x256 on 2 cores)
        float[][] mine = new float[1][];
        for (int i = 0; i < warmup; i++) {
            encode(vae, data.video());
        }
        double[] oursRss = new double[1];
        VaeMemory.resetPeak();
        Stopwatch.Timing ours = ProcessMemory.peakRise(oursRss,
            () -> series.time("loraid " + label, () -> mine[0] = encode(vae, data.video())));
        double oursCounted = VaeMemory.peakBytes() / 1048576.0;
        float[][] theirsOut = new float[1][];
        double[] theirsRss = {Double.NaN};
        if (warmup > 0) {
            ctx.torch().ifPresent(t -> {
                try (TorchCpu.OutputRun r = t.vaeEncode(data)) {
                    for (int i = 0; i < warmup; i++) {
                        r.run();
                    }
                }
            });
        }
        Optional<Stopwatch.Timing> theirs = ctx.torch().isPresent()
            ? ProcessMemory.peakRise(theirsRss, () -> series.torch("pytorch " + label, t -> {
                TorchCpu.OutputRun r = t.vaeEncode(data);
                return TorchCpu.Workload.of(() -> theirsOut[0] = r.output(), r::close);
            }))
            : Optional.empty();
        if (theirsOut[0] != null) {
            ctx.log().printf(Locale.ROOT, "cross-check vs PyTorch: [mu; log-var] max |diff| %.2e (max |out| %.2e)%n",
                BenchTensors.maxAbsDiff(mine[0], theirsOut[0]), BenchTensors.maxAbs(theirsOut[0]));
        }
        double torch = theirs.map(Stopwatch.Timing::median).orElse(Double.NaN);
        double torchCpu = theirs.map(t -> t.cpuNormalizedMedian(ctx.threads())).orElse(Double.NaN);
        var out = ctx.out();
        out.printf(Locale.ROOT, "%s: loraid %s s, pytorch %s s (median of %d); scaled by the CPU share each held "
            + "(loaded machine estimate): loraid %s s, pytorch %s s%n", label, Figures.num(ours.median(), 2),
            Figures.num(torch, 2), ours.seconds().length, Figures.num(ours.cpuNormalizedMedian(ctx.threads()), 2),
            Figures.num(torchCpu, 2));
        out.printf(Locale.ROOT, "memory: loraid activation peak %s MiB counted (owned + scoped); peak RSS rise over the "
            + "timed encodes: loraid %s MiB, pytorch %s MiB (after --warmup runs; with --warmup 0 both include first-call "
            + "costs: JIT and heap growth for ours, oneDNN set-up for PyTorch)%n",
            Figures.num(oursCounted, 1), Figures.num(oursRss[0], 1), Figures.num(theirsRss[0], 1));
        out.println("ratio=" + Figures.num(torch / ours.median(), 2));
    }

    /** One encode; [mu; log-var] as floats ([2z, F, h, w] in channel order). */
    private static float[] encode(WanVae vae, Tensor video) {
        WanVae.Encoded e = vae.encode(video);
        float[] mu = BenchTensors.floats(e.mu());
        float[] lv = BenchTensors.floats(e.logVar());
        float[] both = new float[mu.length + lv.length];
        System.arraycopy(mu, 0, both, 0, mu.length);
        System.arraycopy(lv, 0, both, mu.length, lv.length);
        return both;
    }
}
