package dev.loraid.bench.clip;

import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.TwinReport;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.Options;
import dev.loraid.bench.harness.Series;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.clip.ClipVisionEncoder;

import java.util.List;
import java.util.Locale;

/**
 * {@code bench/run clip}: Wan's CLIP image encoder at ViT-H/14 width (257 tokens, dim 1280) with a few blocks, through
 * {@link ClipVisionEncoder#forward} as {@code cache --clip} and {@code generate --clip} run it, weights in F32 as Wan's
 * file holds them. PyTorch runs the same tower written with NDArray ops in fp32 (upstream forces fp32 on a CPU); the
 * outputs are compared first. {@code ratio=<pytorch time ÷ ours>}.
 */
public final class ClipBench implements BenchCommand {
    private static final long SEED = 7;

    @Override
    public String name() {
        return "clip";
    }

    @Override
    public String summary() {
        return "Wan's CLIP vision tower (ViT-H/14 width, 257 tokens) with a few blocks, vs the same tower in PyTorch "
            + "[--layers N (default 4: 3 run)] [--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        int layers = Options.intOption(args, "--layers", 4);
        if (layers < 2) {
            throw new IllegalArgumentException("--layers must be ≥ 2 (Wan runs all but the last), got " + layers);
        }
        Series series = ctx.series(args, 3, 1);
        ctx.log().println("clip: drawing the " + layers + "-block tower's weights ...");
        ClipCase data = ClipCase.random(layers, SEED);
        ClipVisionEncoder enc = ClipVisionEncoder.load(data.config(), data.weights(), "random CLIP tower");
        int s = data.config().imageSize();
        Tensor pixels = Tensor.of(data.pixels(), 3, s, s);
        String label = String.format(Locale.ROOT, "clip ViT-H/14 %d of %d blocks, 257 tokens, f32", data.config().usedLayers(),
            layers);
        TwinReport.run(ctx, series, label, BenchTensors.floats(enc.forward(pixels)), () -> enc.forward(pixels),
            t -> t.clipVision(data), data.flops());
    }
}
