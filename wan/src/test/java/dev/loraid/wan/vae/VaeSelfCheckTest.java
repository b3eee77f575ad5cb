package dev.loraid.wan.vae;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Random;

import static dev.loraid.wan.vae.VaeGoldenTest.assertClose;
import static dev.loraid.wan.vae.VaeGoldenTest.golden;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's self-checks on the tiny VAE with random clips longer than the golden ones: chunked == whole clip,
 * causality of the first conv, of the latents and of the decoded frames, and frames after 1+4k ignored.
 */
class VaeSelfCheckTest {
    static VaeCheckpoint ck;

    @BeforeAll
    static void open() throws IOException {
        ck = VaeCheckpoint.open(golden("vae_tiny_weights.safetensors"));
    }

    @AfterAll
    static void close() {
        ck.close();
    }

    static Tensor random(long seed, long... dims) {
        Random rnd = new Random(seed);
        Tensor t = Tensor.zeros(DType.F32, dims);
        double[] v = new double[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.max(-1, Math.min(1, rnd.nextGaussian() * 0.6));
        }
        return Tensor.ofDoubles(v, dims).to(DType.F32);
    }

    /** 13 frames = 4 chunks (1 + 3·4): every cache rule runs more than once. */
    @Test
    void chunkedEqualsWholeClip() {
        WanVae vae = ck.model();
        Tensor video = random(1, 3, 13, 16, 24);
        VaeTaps chunkTaps = new VaeTaps();
        VaeTaps wholeTaps = new VaeTaps();
        WanVae.Encoded c = vae.encode(video, chunkTaps);
        WanVae.Encoded w = vae.encodeWholeClip(video, wholeTaps);
        assertEquals(4, c.mu().size(1));
        double enc = Math.max(assertClose("chunked vs whole mu", w.mu(), c.mu(), 1e-5, 1e-5),
            assertClose("chunked vs whole log_var", w.logVar(), c.logVar(), 1e-5, 1e-5));
        for (String tap : wholeTaps.names()) {
            assertClose("chunked vs whole " + tap, wholeTaps.get(tap), chunkTaps.get(tap), 1e-5, 1e-5);
        }
        Tensor z = random(2, 4, 4, 3, 2);
        Tensor dc = vae.decode(z, null);
        Tensor dw = vae.decodeWholeClip(z, null);
        assertEquals(13, dc.size(1));
        double dec = assertClose("chunked vs whole decode", dw, dc, 1e-5, 1e-5);
        System.out.printf("VAE chunked vs whole: encode max abs %.3g, decode max abs %.3g%n", enc, dec);
        // owned buffers (layer outputs, conv inputs, cache slots) are native memory no collector frees
        assertEquals(0, VaeMemory.ownedBytes(), "owned VAE bytes still allocated after encode and decode");
    }

    @Test
    void firstConvIsCausal() {
        WanVae vae = ck.model();
        Tensor video = random(3, 3, 9, 16, 16);
        VaeTaps a = new VaeTaps();
        vae.encode(video, a);
        Tensor moved = video.copy();
        moved.narrow(1, 6, 3).backend().fill(moved.narrow(1, 6, 3), 0.5);
        VaeTaps b = new VaeTaps();
        vae.encode(moved, b);
        Tensor x = a.get("enc_conv1_out");
        Tensor y = b.get("enc_conv1_out");
        assertClose("enc_conv1_out frames 0..5 after perturbing 6..8", x.narrow(1, 0, 6).contiguous(),
            y.narrow(1, 0, 6).contiguous(), 0, 0);
        assertTrue(maxDiff(x.narrow(1, 6, 3).contiguous(), y.narrow(1, 6, 3).contiguous()) > 1e-3);
    }

    @Test
    void latentsAreCausalAndTrailingFramesIgnored() {
        WanVae vae = ck.model();
        Tensor video = random(4, 3, 9, 16, 16);
        Tensor mu = vae.encode(video).mu();
        Tensor moved = video.copy();
        moved.narrow(1, 8, 1).backend().fill(moved.narrow(1, 8, 1), -0.25);
        Tensor mu2 = vae.encode(moved).mu();
        // latent frame j depends on pixel frames ≤ 4j: frame 8 reaches latent 2 only
        assertClose("latent frames 0..1 after perturbing the last frame", mu.narrow(1, 0, 2).contiguous(),
            mu2.narrow(1, 0, 2).contiguous(), 0, 0);
        assertTrue(maxDiff(mu.narrow(1, 2, 1).contiguous(), mu2.narrow(1, 2, 1).contiguous()) > 1e-4);
        // 11 frames: the 2 after 1 + 4·2 are dropped
        Tensor longer = random(5, 3, 11, 16, 16);
        longer.narrow(1, 0, 9).backend().copy(video, longer.narrow(1, 0, 9));
        assertClose("frames after 1+4k ignored", mu, vae.encode(longer).mu(), 0, 0);
    }

    @Test
    void decodedFramesAreCausal() {
        WanVae vae = ck.model();
        Tensor z = random(6, 4, 3, 2, 2);
        Tensor d = vae.decode(z, null);
        Tensor moved = z.copy();
        moved.narrow(1, 1, 1).backend().fill(moved.narrow(1, 1, 1), 0.7);
        Tensor d2 = vae.decode(moved, null);
        assertClose("decoded frame 0 after perturbing latent frame 1", d.narrow(1, 0, 1).contiguous(),
            d2.narrow(1, 0, 1).contiguous(), 0, 0);
        // decoded frame t depends on latent frames ≤ ceil(t/4): frames 1..4 see latent 1
        assertTrue(maxDiff(d.narrow(1, 1, 4).contiguous(), d2.narrow(1, 1, 4).contiguous()) > 1e-4);
        assertClose("decoded frames 1..4 do not see latent frame 2", d.narrow(1, 0, 5).contiguous(),
            vae.decode(z.narrow(1, 0, 2).contiguous(), null), 0, 0);
    }

    static double maxDiff(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }
}
