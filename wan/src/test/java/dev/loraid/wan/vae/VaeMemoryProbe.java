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
 * with {@code -Dloraid.vae.probe=WxHxF} (e.g. 416x240x5) also encodes a random clip and prints time, the scoped
 * activation peak and the process's peak RSS;
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

    @Test
    void probe() throws IOException {
        String spec = System.getProperty("loraid.vae.probe");
        assumeTrue(spec != null && !spec.isBlank(), "set -Dloraid.vae.probe=WxHxF to run the memory probe");
        String[] p = spec.split("x");
        int w = Integer.parseInt(p[0]);
        int h = Integer.parseInt(p[1]);
        int f = Integer.parseInt(p[2]);
        WanVae vae = VaeCheckpoint.model(VaeRandomWeights.of(REAL, 1), "random real-config VAE");
        Tensor video = Tensor.empty(DType.F32, 3, f, h, w);
        video.backend().randomUniform(video, 7, 0);
        video.backend().binaryScalar(dev.loraid.tensor.BinaryOp.MUL, video, 2, video);
        video.backend().binaryScalar(dev.loraid.tensor.BinaryOp.SUB, video, 1, video);
        long rss0 = rssKb("VmRSS");
        MemoryScope.resetPeak(Device.CPU);
        VaeMemory.resetPeak();
        long t0 = System.nanoTime();
        WanVae.Encoded e = vae.encode(video);
        long t1 = System.nanoTime();
        System.out.printf("VAE probe encode %dx%d, %d frames -> %s: %.1f s, activation peak (owned + scoped) %.1f MiB, "
                + "scoped alone %.1f MiB, scope chunks reserved %.1f MiB, process RSS before %.1f MiB, peak (VmHWM) "
                + "%.1f MiB%n", w, h, f, e.mu().shape(), (t1 - t0) / 1e9, VaeMemory.peakBytes() / 1048576.0,
            MemoryScope.peakBytesInUse(Device.CPU) / 1048576.0, MemoryScope.bytesReserved(Device.CPU) / 1048576.0,
            rss0 / 1024.0, rssKb("VmHWM") / 1024.0);
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
