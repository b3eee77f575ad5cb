package dev.loraid.wan.vae;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Random weights of the real config: the key-list reading recovers the config (always runs, no forward pass);
 * with {@code -Dloraid.vae.probe=WxHxF[,…]} (e.g. 832x480x5,832x480x9) also encodes and decodes random clips and
 * prints time, the activation peak and the process's peak RSS of each call;
 * {@code -Dloraid.vae.memlog=true} adds one line per layer step ({@link VaeMemory}) (a measurement to run by hand, not part of the suite).
 */
class VaeMemoryProbe {
    static final VaeConfig REAL = VaeConfig.WAN21;

    @Test
    void realConfigIsRecoveredFromItsKeys() {
        var weights = VaeRandomWeights.of(REAL, 1);
        assertEquals(REAL, VaeCheckpoint.model(weights, "random real-config VAE").config());
        long params = weights.values().stream().mapToLong(Tensor::numel).sum();
        System.out.println("real-config VAE: " + weights.size() + " tensors, " + params + " parameters");
    }

    /**
     * {@code -Dloraid.vae.probe=WxHxF[,WxHxF…]}: for each clip, in one JVM, a random encode then a decode of a random
     * latent of the matching size, each with its own peaks: the activation peak ({@link VaeMemory}: owned + scoped,
     * not the returned result) and the process's peak RSS rise (VmHWM reset through /proc/self/clear_refs before
     * each call). Equal peaks for clips of one frame size but more chunks show the peak follows one chunk.
     */
    @Test
    void probe() throws IOException {
        String spec = System.getProperty("loraid.vae.probe");
        assumeTrue(spec != null && !spec.isBlank(), "set -Dloraid.vae.probe=WxHxF to run the memory probe");
        WanVae vae = VaeCheckpoint.model(VaeRandomWeights.of(REAL, 1), "random real-config VAE");
        for (String clip : spec.split(",")) {
            String[] p = clip.trim().split("x");
            int w = Integer.parseInt(p[0]);
            int h = Integer.parseInt(p[1]);
            int f = Integer.parseInt(p[2]);
            Tensor video = uniform(7, 3, f, h, w);
            long[] rss = resetRssPeak();
            long t0 = System.nanoTime();
            WanVae.Encoded e = vae.encode(video);
            report("encode", w, h, f, e.mu().shape().toString(), t0, rss);
            Tensor z = uniform(8, e.mu().shape().toArray());
            video = null;
            e = null;
            rss = resetRssPeak();
            t0 = System.nanoTime();
            Tensor pixels = vae.decode(z, null);
            report("decode", w, h, f, pixels.shape().toString(), t0, rss);
        }
    }

    private static Tensor uniform(long seed, long... dims) {
        Tensor t = Tensor.empty(DType.F32, dims);
        t.backend().randomUniform(t, seed, 0);
        t.backend().binaryScalar(dev.loraid.tensor.BinaryOp.MUL, t, 2, t);
        t.backend().binaryScalar(dev.loraid.tensor.BinaryOp.SUB, t, 1, t);
        return t;
    }

    /** Resets the peaks (VmHWM through clear_refs, where the kernel allows it); returns {RSS now, reset worked}. */
    private static long[] resetRssPeak() throws IOException {
        System.gc();
        boolean reset;
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            reset = true;
        } catch (IOException ex) {
            reset = false;
        }
        MemoryScope.resetPeak(Device.CPU);
        VaeMemory.resetPeak();
        return new long[] {rssKb("VmRSS"), reset ? 1 : 0};
    }

    private static void report(String what, int w, int h, int f, String out, long t0, long[] rss) throws IOException {
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("VAE probe %s %dx%d, %d frames -> %s: %.1f s, activation peak (owned + scoped) %.1f MiB, "
                + "scoped alone %.1f MiB, scope chunks reserved %.1f MiB, process RSS before %.1f MiB, peak RSS %s %.1f MiB%n",
            what, w, h, f, out, s, VaeMemory.peakBytes() / 1048576.0, MemoryScope.peakBytesInUse(Device.CPU) / 1048576.0,
            MemoryScope.bytesReserved(Device.CPU) / 1048576.0, rss[0] / 1024.0,
            rss[1] == 1 ? "(VmHWM since reset)" : "(VmHWM of the process; clear_refs refused)", rssKb("VmHWM") / 1024.0);
    }

    private static long rssKb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
