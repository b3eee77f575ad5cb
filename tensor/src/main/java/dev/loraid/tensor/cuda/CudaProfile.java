package dev.loraid.tensor.cuda;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Device time per kernel, opt-in with {@code -Dloraid.cuda.profile=true}: every kernel launch, cuBLASLt GEMM and
 * device copy of the backend is bracketed by two CUDA events on the backend's stream, and {@link #report} sums the
 * elapsed times by name. Off (the default) it costs one branch per launch. The events add a few microseconds of
 * host time per launch, nothing on the device between kernels.
 */
public final class CudaProfile {
    static final boolean ENABLED = Boolean.getBoolean("loraid.cuda.profile");

    private record Span(String name, MemorySegment start, MemorySegment end) {
    }

    private static final List<Span> spans = new ArrayList<>();
    private static final ArrayDeque<MemorySegment> freeEvents = new ArrayDeque<>();
    private static CudaContext context;

    private CudaProfile() {
    }

    public static boolean enabled() {
        return ENABLED;
    }

    /** Runs {@code work} (which enqueues on {@code ctx}'s stream) between two events named {@code name}. */
    static void time(CudaContext ctx, String name, Runnable work) {
        if (!ENABLED) {
            work.run();
            return;
        }
        synchronized (CudaProfile.class) {
            context = ctx;
            MemorySegment start = event(ctx);
            ctx.driver().eventRecord(start, ctx.stream());
            work.run();
            MemorySegment end = event(ctx);
            ctx.driver().eventRecord(end, ctx.stream());
            spans.add(new Span(name, start, end));
        }
    }

    private static MemorySegment event(CudaContext ctx) {
        MemorySegment e = freeEvents.poll();
        return e != null ? e : ctx.driver().eventCreate();
    }

    /** Forgets what was timed so far (e.g. the warm-up steps). */
    public static synchronized void reset() {
        if (context != null) {
            context.synchronize();
        }
        for (Span s : spans) {
            freeEvents.add(s.start());
            freeEvents.add(s.end());
        }
        spans.clear();
    }

    /**
     * Waits for the device, prints device milliseconds per name (total, count, share), largest first, each divided
     * by {@code steps} (the number of repetitions timed), then forgets them.
     */
    public static synchronized void report(PrintStream out, int steps) {
        if (context == null || spans.isEmpty()) {
            out.println("cuda profile: nothing timed" + (ENABLED ? "" : " (-Dloraid.cuda.profile=true is off)"));
            return;
        }
        context.synchronize();
        Map<String, double[]> byName = new LinkedHashMap<>();
        double total = 0;
        for (Span s : spans) {
            double ms = context.driver().eventElapsedMillis(s.start(), s.end());
            double[] acc = byName.computeIfAbsent(s.name(), k -> new double[2]);
            acc[0] += ms;
            acc[1]++;
            total += ms;
        }
        int n = Math.max(1, steps);
        out.printf(Locale.ROOT, "cuda profile: %.3f ms of device time per step in %d launches per step%n", total / n,
            spans.size() / n);
        List<Map.Entry<String, double[]>> rows = new ArrayList<>(byName.entrySet());
        rows.sort(Comparator.comparingDouble((Map.Entry<String, double[]> e) -> e.getValue()[0]).reversed());
        for (Map.Entry<String, double[]> e : rows) {
            double[] v = e.getValue();
            out.printf(Locale.ROOT, "  %9.3f ms %5.1f%% %6d× %s%n", v[0] / n, 100 * v[0] / total, (long) v[1] / n,
                e.getKey());
        }
        reset();
    }
}
