package dev.loraid.bench.umt5;

import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.TwinReport;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.Options;
import dev.loraid.bench.harness.Series;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.text.Umt5Encoder;

import java.util.List;
import java.util.Locale;

/**
 * {@code bench/run umt5}: one UMT5-XXL layer (dim 4096, ffn 10240, 64 heads, relative position bias) over 512 tokens
 * through {@link Umt5Encoder#forward(Tensor, Tensor)} — token lookup, bucket table, the layer, the final norm — with
 * a 1-layer config and random fp32 weights ({@link Umt5LayerCase}). PyTorch runs the same encoder written with
 * NDArray ops (its own bucket formula, matmul-softmax-matmul attention with the bias, gated GELU-tanh FFN); the
 * outputs are compared first. {@code ratio=<pytorch time ÷ ours>}.
 */
public final class Umt5Bench implements BenchCommand {
    private static final long SEED = 5;

    @Override
    public String name() {
        return "umt5";
    }

    @Override
    public String summary() {
        return "one UMT5-XXL layer (4096/10240/64 heads) over 512 tokens, fp32, vs the same layer in PyTorch "
            + "[--tokens N] [--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        int tokens = Options.intOption(args, "--tokens", 512);
        Series series = ctx.series(args, 3, 1);
        if (tokens < 1) {
            throw new IllegalArgumentException("--tokens must be ≥ 1, got " + tokens);
        }
        ctx.log().println("umt5: drawing the 1-layer UMT5-XXL weights ...");
        Umt5LayerCase data = Umt5LayerCase.random(tokens, SEED);
        Umt5Encoder enc = Umt5Encoder.load(data.config(), data.weights(), "random 1-layer UMT5-XXL");
        Tensor ids = Tensor.ofLongs(data.ids(), tokens);
        long[] ones = new long[tokens];
        java.util.Arrays.fill(ones, 1);
        Tensor mask = Tensor.ofLongs(ones, tokens);
        String label = String.format(Locale.ROOT, "umt5 1 layer L=%d (dim %d, ffn %d, %d heads) f32", tokens,
            data.config().dim(), data.config().ffnDim(), data.config().numHeads());
        TwinReport.run(ctx, series, label, BenchTensors.floats(enc.forward(ids, mask)), () -> enc.forward(ids, mask),
            t -> t.umt5Layer(data), data.flops());
    }
}
