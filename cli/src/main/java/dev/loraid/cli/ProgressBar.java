package dev.loraid.cli;

import java.io.PrintStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar on stderr with rate and ETA, for long commands (merge, train, convert):
 * {@code merging  [#########...........]  45%  450/1000 tensors  12.3/s  ETA 0:00:45}. It redraws at most
 * ten times a second and is silent when stderr is not a terminal (logs, pipes) or the user passed
 * {@code --quiet}.
 *
 * <pre>{@code
 * try (ProgressBar bar = ProgressBar.create("merging", names.size(), "tensors", quiet)) {
 *     for (String n : names) { ...; bar.step(1); }
 * }
 * }</pre>
 */
final class ProgressBar implements AutoCloseable {
    private static final int BAR_WIDTH = 24;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final String label;
    private final long total;
    private final String unit;
    private final PrintStream err;
    private final boolean enabled;
    private final LongSupplier clock;
    private final long start;
    private long done;
    private long lastDraw;
    private boolean drawn;
    private long drawnDone;
    private int lastLength;
    private String detail = "";

    ProgressBar(String label, long total, String unit, PrintStream err, boolean enabled, LongSupplier nanoClock) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.err = err;
        this.enabled = enabled;
        this.clock = nanoClock;
        this.start = nanoClock.getAsLong();
    }

    /** A bar on {@code System.err}, drawn only if stderr is a terminal and not {@code quiet}; total ≤ 0 = unknown. */
    static ProgressBar create(String label, long total, String unit, boolean quiet) {
        return new ProgressBar(label, total, unit, System.err, !quiet && stderrIsTerminal(), System::nanoTime);
    }

    /**
     * isatty(2) through the C library: Java's Console only tells whether stdin and stdout are terminals, and
     * {@code loraid merge ... > log} must still show its bar. Falls back to the Console where there is no isatty.
     */
    static boolean stderrIsTerminal() {
        try {
            Linker linker = Linker.nativeLinker();
            Optional<MemorySegment> isatty = linker.defaultLookup().find("isatty");
            if (isatty.isPresent()) {
                MethodHandle h = linker.downcallHandle(isatty.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                return (int) h.invokeExact(2) == 1;
            }
        } catch (Throwable e) {
            // no usable C library (or native access denied): fall back below
        }
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** Text shown after the rate and ETA from the next redraw on (e.g. the training loss and rate). */
    void detail(String text) {
        detail = text == null || text.isEmpty() ? "" : "  " + text;
    }

    /** Blanks the bar's line so that a message can be printed; the next step draws the bar again below it. */
    void clearLine() {
        if (drawn) {
            err.print("\r" + " ".repeat(lastLength) + "\r");
            err.flush();
            drawn = false;
            lastLength = 0;
        }
    }

    /** Advances by {@code n} units. */
    void step(long n) {
        done += n;
        long now = clock.getAsLong();
        if (enabled && (!drawn || now - lastDraw >= REDRAW_NANOS || done == total)) {
            lastDraw = now;
            drawn = true;
            draw(format(label, done, total, unit, (now - start) / 1e9) + detail);
        }
    }

    long done() {
        return done;
    }

    /** Ends the line (the last state stays visible). */
    @Override
    public void close() {
        if (drawn) {
            if (drawnDone != done) {
                draw(format(label, done, total, unit, (clock.getAsLong() - start) / 1e9) + detail);
            }
            err.println();
        }
    }

    private void draw(String line) {
        // pad over the previous, possibly longer, line
        err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        err.flush();
        lastLength = line.length();
        drawnDone = done;
    }

    /** The line for {@code done} of {@code total} units after {@code seconds}; pure, for tests. */
    static String format(String label, long done, long total, String unit, double seconds) {
        StringBuilder sb = new StringBuilder(label);
        double rate = seconds > 0 ? done / seconds : 0;
        if (total > 0) {
            double frac = Math.min(1.0, (double) done / total);
            int filled = (int) Math.floor(frac * BAR_WIDTH);
            sb.append("  [").append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("]  ")
                .append(String.format(Locale.ROOT, "%3d%%", (int) Math.floor(frac * 100)))
                .append("  ").append(done).append('/').append(total);
        } else {
            sb.append("  ").append(done);
        }
        sb.append(' ').append(unit).append("  ").append(rate(rate)).append("/s");
        if (total > 0 && done < total) {
            sb.append("  ETA ").append(rate > 0 ? duration((total - done) / rate) : "?");
        } else if (total > 0) {
            sb.append("  in ").append(duration(seconds));
        }
        return sb.toString();
    }

    private static String rate(double r) {
        return r >= 100 ? String.valueOf(Math.round(r)) : String.format(Locale.ROOT, r >= 10 ? "%.1f" : "%.2f", r);
    }

    /** h:mm:ss, rounded up to the second. */
    static String duration(double seconds) {
        long s = (long) Math.ceil(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
