package dev.loraid.wan.vae;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A full VAE state dict for any {@link VaeConfig}, built the way upstream's {@code WanVAE_} lays its modules out
 * (spec vae-t5.md §1.3; vae2_2.py's for the 2.2 layout, §2), with conv weights N(0, 1/fan_in), biases 0, gammas 1: for memory and speed probes with the
 * real config (tests, {@code bench/run vae-encode}), and to check that the key-list reading recovers the config it
 * was built from.
 */
public final class VaeRandomWeights {
    private final Map<String, Tensor> out = new LinkedHashMap<>();
    private long seed;

    private VaeRandomWeights(long seed) {
        this.seed = seed;
    }

    /** Every key of the VAE for config {@code c}, drawn from {@code seed} (contiguous fp32, outside any scope). */
    public static Map<String, Tensor> of(VaeConfig c, long seed) {
        VaeRandomWeights w = new VaeRandomWeights(seed);
        w.build(c);
        return w.out;
    }

    private void build(VaeConfig c) {
        boolean wan22 = c.layout() == VaeConfig.Layout.WAN22;
        int pixels = 3 * c.patchSize() * c.patchSize();
        int dim = c.dim();
        int z = c.zDim();
        List<Integer> mult = c.dimMult();
        int levels = mult.size();
        int[] dims = new int[levels + 1];
        dims[0] = dim;
        for (int i = 0; i < levels; i++) {
            dims[i + 1] = dim * mult.get(i);
        }
        conv("encoder.conv1", dim, pixels, 3, 3);
        int n = 0;
        for (int i = 0; i < levels; i++) {
            // 2.1: one flat list encoder.downsamples.N; 2.2: encoder.downsamples.<level>.downsamples.N (spec §2)
            String level = wan22 ? "encoder.downsamples." + i + ".downsamples." : "encoder.downsamples.";
            n = wan22 ? 0 : n;
            int in = dims[i];
            int o = dims[i + 1];
            for (int j = 0; j < c.numResBlocks(); j++) {
                res(level + n++, in, o);
                in = o;
            }
            if (i < levels - 1) {
                resample(level + n++, o, o, c.temporalDownsample().get(i) ? o : 0);
            }
        }
        int top = dims[levels];
        middle("encoder.middle", top);
        gamma("encoder.head.0.gamma", top, 4);
        conv("encoder.head.2", 2 * z, top, 3, 3);
        conv("conv1", 2 * z, 2 * z, 1, 1);
        conv("conv2", z, z, 1, 1);
        int dd = c.decoderDim();
        int[] ddims = new int[levels + 1];
        ddims[0] = dd * mult.get(levels - 1);
        for (int i = 0; i < levels; i++) {
            ddims[i + 1] = dd * mult.get(levels - 1 - i);
        }
        conv("decoder.conv1", ddims[0], z, 3, 3);
        middle("decoder.middle", ddims[0]);
        n = 0;
        for (int i = 0; i < levels; i++) {
            String level = wan22 ? "decoder.upsamples." + i + ".upsamples." : "decoder.upsamples.";
            n = wan22 ? 0 : n;
            // 2.1's upsample conv halves the channels, so the next level starts at half; 2.2's keeps them
            int in = i > 0 && !wan22 ? ddims[i] / 2 : ddims[i];
            int o = ddims[i + 1];
            for (int j = 0; j < c.numResBlocks() + 1; j++) {
                res(level + n++, in, o);
                in = o;
            }
            if (i < levels - 1) {
                boolean temporal = c.temporalDownsample().get(levels - 2 - i);
                resample(level + n++, wan22 ? o : o / 2, o, temporal ? 2 * o : 0);
            }
        }
        gamma("decoder.head.0.gamma", ddims[levels], 4);
        conv("decoder.head.2", pixels, ddims[levels], 3, 3);
    }

    private void res(String p, int in, int o) {
        gamma(p + ".residual.0.gamma", in, 4);
        conv(p + ".residual.2", o, in, 3, 3);
        gamma(p + ".residual.3.gamma", o, 4);
        conv(p + ".residual.6", o, o, 3, 3);
        if (in != o) {
            conv(p + ".shortcut", o, in, 1, 1);
        }
    }

    private void middle(String p, int c) {
        res(p + ".0", c, c);
        gamma(p + ".1.norm.gamma", c, 3);
        put(p + ".1.to_qkv.weight", randn(1.0 / c, 3 * c, c, 1, 1));
        put(p + ".1.to_qkv.bias", Tensor.zeros(DType.F32, 3 * c));
        put(p + ".1.proj.weight", randn(1.0 / c, c, c, 1, 1));
        put(p + ".1.proj.bias", Tensor.zeros(DType.F32, c));
        res(p + ".2", c, c);
    }

    /** resample.1 (Conv2d 3×3 in → o) and, when {@code timeOut > 0}, time_conv [timeOut, in, 3, 1, 1]. */
    private void resample(String p, int o, int in, int timeOut) {
        put(p + ".resample.1.weight", randn(1.0 / (in * 9), o, in, 3, 3));
        put(p + ".resample.1.bias", Tensor.zeros(DType.F32, o));
        if (timeOut > 0) {
            put(p + ".time_conv.weight", randn(1.0 / (in * 3), timeOut, in, 3, 1, 1));
            put(p + ".time_conv.bias", Tensor.zeros(DType.F32, timeOut));
        }
    }

    private void conv(String p, int o, int in, int kt, int k) {
        put(p + ".weight", randn(1.0 / (in * kt * k * k), o, in, kt, k, k));
        put(p + ".bias", Tensor.zeros(DType.F32, o));
    }

    private void gamma(String key, int c, int rank) {
        put(key, rank == 4 ? Tensor.full(DType.F32, 1, c, 1, 1, 1) : Tensor.full(DType.F32, 1, c, 1, 1));
    }

    private Tensor randn(double variance, long... dims) {
        Tensor t = Tensor.empty(DType.F32, dims);
        t.backend().randomNormal(t, seed++, 0);
        t.backend().binaryScalar(dev.loraid.tensor.BinaryOp.MUL, t, Math.sqrt(variance), t);
        return t;
    }

    private void put(String key, Tensor t) {
        out.put(key, t);
    }
}
