package dev.loraid.wan.vae;

import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.loraid.wan.vae.VaeGoldenTest.assertClose;
import static dev.loraid.wan.vae.VaeSelfCheckTest.maxDiff;
import static dev.loraid.wan.vae.VaeSelfCheckTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Wan 2.2 (TI2V-5B) VAE layout (spec vae-t5.md §2) without golden vectors (none exist): a small config with the
 * real one's structure (dim_mult [1, 2, 4, 4], temporal [F, T, T], decoder dim ≠ encoder dim, so one decoder level
 * halves its channels through DupUp3D), random weights. Checked: the config read back from the keys, the
 * 4 × 16 × 16 stride, chunked == whole clip, causality, and patchify / AvgDown3D / DupUp3D against upstream's
 * rearrange / view / permute / mean written out as plain loops.
 */
class VaeWan22Test {
    static final VaeConfig SMALL = new VaeConfig(VaeConfig.Layout.WAN22, 4, 6, 5, List.of(1, 2, 4, 4), 1,
        List.of(false, true, true));

    static WanVae small() {
        return VaeCheckpoint.model(VaeRandomWeights.of(SMALL, 7), "random 2.2 weights");
    }

    @Test
    void configIsReadFromTheKeys() {
        assertEquals(SMALL, small().config());
        assertEquals(16, SMALL.spatialFactor());
        assertEquals(4, SMALL.temporalFactor());
        // vae2_2.py's key layout: levels with inner lists, 12 pixel channels (3 colours × the 2×2 patch)
        Map<String, Tensor> keys = VaeRandomWeights.of(SMALL, 1);
        assertArrayEquals(new long[] {4, 12, 3, 3, 3}, keys.get("encoder.conv1.weight").shape().toArray());
        assertArrayEquals(new long[] {12, 6, 3, 3, 3}, keys.get("decoder.head.2.weight").shape().toArray());
        assertTrue(keys.containsKey("encoder.downsamples.1.downsamples.1.time_conv.weight"));
        assertTrue(keys.containsKey("decoder.upsamples.0.upsamples.2.time_conv.weight"));
        // a 2.2 upsample keeps its channels (2.1's halves them)
        assertArrayEquals(new long[] {24, 24, 3, 3}, keys.get("decoder.upsamples.0.upsamples.2.resample.1.weight").shape().toArray());
    }

    /** 9 frames, 32×48 → latent [z, 3, 2, 3] and back to [3, 9, 32, 48]; chunked runs equal whole-clip runs. */
    @Test
    void shapesAndChunkedEqualsWholeClip() {
        WanVae vae = small();
        Tensor video = random(11, 3, 9, 32, 48);
        WanVae.Encoded c = vae.encode(video, null);
        WanVae.Encoded w = vae.encodeWholeClip(video, null);
        assertArrayEquals(new long[] {5, 3, 2, 3}, c.mu().shape().toArray());
        assertArrayEquals(new long[] {5, 3, 2, 3}, c.logVar().shape().toArray());
        double enc = assertClose("2.2 chunked vs whole mu", w.mu(), c.mu(), 1e-5, 1e-5);
        assertClose("2.2 chunked vs whole log_var", w.logVar(), c.logVar(), 1e-5, 1e-5);
        Tensor z = random(12, 5, 3, 2, 3);
        Tensor dc = vae.decode(z, null);
        Tensor dw = vae.decodeWholeClip(z, null);
        assertArrayEquals(new long[] {3, 9, 32, 48}, dc.shape().toArray());
        double dec = assertClose("2.2 chunked vs whole decode", dw, dc, 1e-5, 1e-5);
        assertTrue(maxDiff(dc, Tensor.zeros(dc.dtype(), dc.shape().toArray())) > 1e-3, "decode is all zeros");
        System.out.printf("VAE 2.2 chunked vs whole: encode max abs %.3g, decode max abs %.3g%n", enc, dec);
        assertEquals(0, VaeMemory.ownedBytes(), "owned VAE bytes still allocated after encode and decode");
    }

    @Test
    void latentsAndDecodedFramesAreCausal() {
        WanVae vae = small();
        Tensor video = random(13, 3, 9, 16, 16);
        Tensor moved = video.copy();
        moved.narrow(1, 5, 4).backend().fill(moved.narrow(1, 5, 4), 0.3);
        Tensor a = vae.encode(video).mu();
        Tensor b = vae.encode(moved).mu();
        assertClose("latent frames 0..1 after perturbing pixel frames 5..8", a.narrow(1, 0, 2).contiguous(),
            b.narrow(1, 0, 2).contiguous(), 0, 0);
        assertTrue(maxDiff(a.narrow(1, 2, 1).contiguous(), b.narrow(1, 2, 1).contiguous()) > 1e-4);
        Tensor z = random(14, 5, 3, 1, 1);
        Tensor d = vae.decode(z, null);
        assertClose("decoded frames 0..4 do not see latent frame 2", d.narrow(1, 0, 5).contiguous(),
            vae.decode(z.narrow(1, 0, 2).contiguous(), null), 0, 0);
    }

    @Test
    void patchifyPlacesPixelsAsUpstreamAndUnpatchifyInvertsIt() {
        Tensor x = random(15, 2, 3, 4, 6);
        Tensor p = VaeOps.patchify(x, 2);
        assertArrayEquals(new long[] {8, 3, 2, 3}, p.shape().toArray());
        // "b c f (h q) (w r) -> b (c r q) f h w"
        for (int c = 0; c < 2; c++) {
            for (int r = 0; r < 2; r++) {
                for (int q = 0; q < 2; q++) {
                    for (int t = 0; t < 3; t++) {
                        for (int h = 0; h < 2; h++) {
                            for (int w = 0; w < 3; w++) {
                                assertEquals(x.getDouble(c, t, 2 * h + q, 2 * w + r), p.getDouble(c * 4 + r * 2 + q, t, h, w));
                            }
                        }
                    }
                }
            }
        }
        Tensor back = Tensor.zeros(x.dtype(), 2, 3, 4, 6);
        VaeOps.unpatchifyInto(p, 2, back);
        assertClose("unpatchify(patchify(x))", x, back, 0, 0);
        VaeOps.free(p);
    }

    /** Upstream's AvgDown3D, literally: pad time in front, view/permute into folded channels, mean over groups. */
    static double[] avgDownLoops(Tensor x, int out, int ft, int fs) {
        int in = (int) x.size(0);
        int t = (int) x.size(1);
        int h = (int) x.size(2);
        int w = (int) x.size(3);
        int pad = (ft - t % ft) % ft;
        int tt = (t + pad) / ft;
        int f = ft * fs * fs;
        int g = in * f / out;
        double[] y = new double[out * tt * (h / fs) * (w / fs)];
        for (int c = 0; c < in; c++) {
            for (int dt = 0; dt < ft; dt++) {
                for (int dh = 0; dh < fs; dh++) {
                    for (int dw = 0; dw < fs; dw++) {
                        int o = (c * f + (dt * fs + dh) * fs + dw) / g;
                        for (int a = 0; a < tt; a++) {
                            int ti = a * ft + dt - pad;
                            for (int b = 0; b < h / fs; b++) {
                                for (int e = 0; e < w / fs; e++) {
                                    double v = ti < 0 ? 0 : x.getDouble(c, ti, b * fs + dh, e * fs + dw);
                                    y[((o * tt + a) * (h / fs) + b) * (w / fs) + e] += v / g;
                                }
                            }
                        }
                    }
                }
            }
        }
        return y;
    }

    @Test
    void avgDownMatchesUpstreamsFolding() {
        Tensor x = random(16, 3, 3, 4, 6);
        for (int[] cfg : new int[][] {{6, 2, 2}, {3, 1, 2}, {12, 2, 2}, {3, 2, 1}}) {
            AvgDown3d a = new AvgDown3d(3, cfg[0], cfg[1], cfg[2]);
            Tensor y = a.apply(x);
            double[] expect = avgDownLoops(x, cfg[0], cfg[1], cfg[2]);
            assertEquals(expect.length, y.numel());
            assertClose("AvgDown3D(3, " + cfg[0] + ", " + cfg[1] + ", " + cfg[2] + ")",
                Tensor.ofDoubles(expect, y.shape().toArray()), y, 1e-6, 1e-6);
            VaeOps.free(y);
        }
    }

    @Test
    void dupUpMatchesUpstreamsRepeatAndUnfold() {
        Tensor x = random(17, 4, 2, 2, 3);
        for (int[] cfg : new int[][] {{4, 2, 2}, {2, 2, 2}, {2, 1, 2}, {1, 2, 2}, {2, 2, 1}}) {
            int out = cfg[0];
            int ft = cfg[1];
            int fs = cfg[2];
            int f = ft * fs * fs;
            int reps = out * f / 4;
            for (boolean first : new boolean[] {false, true}) {
                Tensor y = new DupUp3d(4, out, ft, fs).apply(x, first);
                int drop = first ? ft - 1 : 0;
                assertEquals(2L * ft - drop, y.size(1));
                // repeat_interleave: expanded channel e = c·reps + k; view [out, ft, fs, fs]: o = e / f, sub = e % f
                for (int c = 0; c < 4; c++) {
                    for (int k = 0; k < reps; k++) {
                        int e = c * reps + k;
                        int o = e / f;
                        int dt = e % f / (fs * fs);
                        int dh = e % f / fs % fs;
                        int dw = e % f % fs;
                        for (int t = 0; t < 2; t++) {
                            int to = t * ft + dt - drop;
                            for (int h = 0; h < 2; h++) {
                                for (int w = 0; w < 3; w++) {
                                    if (to >= 0) {
                                        assertEquals(x.getDouble(c, t, h, w), y.getDouble(o, to, h * fs + dh, w * fs + dw));
                                    }
                                }
                            }
                        }
                    }
                }
                VaeOps.free(y);
            }
        }
    }

    @Test
    void latentStatsFollowTheChannelCount() throws java.io.IOException {
        assertEquals(48, LatentStats.WAN22.channels());
        assertSame(LatentStats.WAN22, LatentStats.forVae(48, null, "2.2"));
        assertSame(LatentStats.WAN21, LatentStats.forVae(16, null, "2.1"));
    }
}
