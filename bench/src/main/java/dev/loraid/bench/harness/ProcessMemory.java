package dev.loraid.bench.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * The process's resident memory from {@code /proc/self/status}: how both sides of a benchmark are measured the same
 * way (PyTorch's native allocations are invisible to our scope counters). {@link #resetPeak()} writes 5 to
 * {@code /proc/self/clear_refs}, which restarts the kernel's high-water mark (VmHWM) at the current RSS; without
 * /proc every figure is NaN.
 */
public final class ProcessMemory {
    private ProcessMemory() {
    }

    /** Restarts VmHWM at the current VmRSS; false when the kernel refused. */
    public static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** VmRSS in MiB. */
    public static double rssMiB() {
        return field("VmRSS");
    }

    /** VmHWM (peak RSS since start or the last {@link #resetPeak()}) in MiB. */
    public static double peakMiB() {
        return field("VmHWM");
    }

    private static double field(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /**
     * {@code work()} with the peak restarted first; {@code rise[0]} becomes how far RSS rose above its level at the
     * start, in MiB (NaN without /proc). The garbage collector runs first so that the heap's garbage does not count.
     */
    public static <T> T peakRise(double[] rise, Supplier<T> work) {
        System.gc();
        boolean reset = resetPeak();
        double before = rssMiB();
        T result = work.get();
        rise[0] = reset ? peakMiB() - before : Double.NaN;
        return result;
    }
}
