package dev.loraid.wan.vae;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;

import java.util.Locale;

/**
 * The VAE's activation memory, counted: tensors it owns and frees itself ({@link VaeOps#own}, {@link VaeOps#owned}:
 * the activation between layers, the feature-cache slots, a layer's big intermediates) plus what the open
 * {@link MemoryScope}s hold. {@link #peakBytes()} is the high-water mark of that sum, taken at every owned
 * allocation and release and at the end of every layer step; a scope only grows until it closes, so this is the
 * true peak of the two together. With {@code -Dloraid.vae.memlog=true} every layer step prints one line (name, output
 * shape, time, scope bytes, owned bytes) to stderr: how to find which layer sets the peak (or takes the time).
 *
 * <p>One VAE call at a time per process is assumed (the counters are global, the methods synchronised).
 */
public final class VaeMemory {
    private static final boolean LOG = Boolean.getBoolean("loraid.vae.memlog");
    private static long owned;
    private static long peak;

    private VaeMemory() {
    }

    /** Starts a new high-water-mark measurement. */
    public static synchronized void resetPeak() {
        peak = owned + MemoryScope.bytesInUseNow(Device.CPU);
    }

    /** The most bytes (owned + scoped) in use at once since {@link #resetPeak()}. */
    public static synchronized long peakBytes() {
        return peak;
    }

    /** Bytes of owned tensors alive now. */
    public static synchronized long ownedBytes() {
        return owned;
    }

    static synchronized void allocated(long bytes) {
        owned += bytes;
        note();
    }

    static synchronized void released(long bytes) {
        note();
        owned -= bytes;
    }

    /** A layer step ends: its scope is at its largest now. */
    static synchronized void stepEnd(String name, dev.loraid.tensor.Tensor out, long nanos) {
        long scoped = MemoryScope.bytesInUseNow(Device.CPU);
        note();
        if (LOG) {
            System.err.printf(Locale.ROOT, "vae-mem %-28s out %-22s %8.1f ms, scope %8.1f MiB, owned %8.1f MiB, sum "
                + "%8.1f MiB, peak so far %8.1f MiB%n", name, out.shape(), nanos / 1e6, scoped / 1048576.0,
                owned / 1048576.0, (scoped + owned) / 1048576.0, peak / 1048576.0);
        }
    }

    private static void note() {
        peak = Math.max(peak, owned + MemoryScope.bytesInUseNow(Device.CPU));
    }
}
