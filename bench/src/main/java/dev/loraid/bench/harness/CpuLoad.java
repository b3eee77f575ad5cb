package dev.loraid.bench.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * CPU time used by other processes, from Linux's {@code /proc/stat} (all CPUs) minus {@code /proc/self/stat}
 * (this JVM), both in clock ticks. The shared 2-core machine this project is benchmarked on runs other jobs;
 * a run during which they take CPU time measures them as much as us (pytorch-cpu-anchor.md, pitfall 7).
 */
public record CpuLoad(long totalTicks, long busyTicks, long selfTicks, int cpus) {
    private static final Path STAT = Path.of("/proc/stat");
    private static final Path SELF = Path.of("/proc/self/stat");

    /** A sample now, or empty where /proc is not readable (not Linux). */
    public static Optional<CpuLoad> sample() {
        try {
            return Optional.of(parse(Files.readString(STAT), Files.readString(SELF)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * From the text of /proc/stat (its aggregate {@code cpu} line: user nice system idle iowait irq softirq
     * steal ...) and /proc/self/stat (utime and stime are fields 14 and 15; the command name in field 2 may
     * hold spaces, so fields are counted after its closing parenthesis).
     */
    static CpuLoad parse(String procStat, String selfStat) {
        long total = 0;
        long idle = 0;
        int cpus = 0;
        for (String line : procStat.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f[0].equals("cpu")) {
                // guest time (fields 9, 10) is already counted in user and nice
                for (int i = 1; i < f.length && i <= 8; i++) {
                    total += Long.parseLong(f[i]);
                }
                idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
            } else if (f[0].startsWith("cpu")) {
                cpus++;
            }
        }
        String[] g = selfStat.substring(selfStat.lastIndexOf(')') + 2).trim().split("\\s+");
        long self = Long.parseLong(g[11]) + Long.parseLong(g[12]);
        return new CpuLoad(total, total - idle, self, Math.max(1, cpus));
    }

    /** Wall time between the samples, in CPU-ticks of one CPU. */
    public double ticksPerCpu(CpuLoad later) {
        return (later.totalTicks - totalTicks) / (double) cpus;
    }

    /** How many CPUs other processes kept busy, on average, between this sample and {@code later}. */
    public double othersCpus(CpuLoad later) {
        double wall = ticksPerCpu(later);
        if (wall <= 0) {
            return 0;
        }
        long others = (later.busyTicks - busyTicks) - (later.selfTicks - selfTicks);
        return Math.max(0, others) / wall;
    }
}
