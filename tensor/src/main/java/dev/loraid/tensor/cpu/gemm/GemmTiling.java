package dev.loraid.tensor.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Register tile and cache blocking of the fp32 GEMM, chosen once at start-up from the preferred vector width
 * (AVX2: 8 lanes, AVX-512: 16, NEON: 4) and the data cache sizes (Linux sysfs; 32 KiB L1d and 1 MiB L2 when
 * unknown). Loop structure (BLIS): for each NC-wide column block, for each KC-deep slice of K, pack B's slice
 * into NR-wide panels; for each MC-high row block pack A's slice into MR-high strips; then the micro-kernel
 * computes every MR x NR tile of the block with all MR x NR accumulators in registers.
 *
 * <p>Sizes: the register tile is MR x 2 vectors, MR chosen by the register count: 6 rows (12 accumulators) where
 * there are 32 vector registers (AVX-512, NEON/SVE), 4 rows (8) on x86 without AVX-512, whose 16 registers hold
 * 4 broadcasts, 2 B vectors and 8 accumulators however C2 schedules a step ({@link MicroKernel}). A group of B
 * micro-panels (KC x NR floats each, a quarter of L2 together) meets each MR-strip of A in turn, the strip staying
 * in L1; the packed A block (MC x KC) takes about a quarter of L2; the packed B block (KC x NC) lives in L2/L3.
 * {@code -Dloraid.gemm.kc / .mc / .nc / .group} override the blocking, for benchmarking.
 */
public final class GemmTiling {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int LANES = SPECIES.length();
    /** Rows of the register tile: 6, or 4 where there are only 16 vector registers ({@code -Dloraid.gemm.mr}). */
    public static final int MR = rows(Integer.getInteger("loraid.gemm.mr", sixteenRegisters() ? 4 : 6));
    /** Columns of the register tile: two vectors. */
    public static final int NR = 2 * LANES;
    /** Depth of one packed slice of K. */
    public static final int KC;
    /** Rows of one packed block of A (a multiple of MR). */
    public static final int MC;
    /** Columns of one packed block of B (a multiple of NR). */
    public static final int NC;
    /**
     * B panels multiplied by one strip of A before the next strip ({@link BlockedGemm#multiplyBlock}): as many as
     * fill a quarter of L2 (8 on Zen 3 and on Zen 5), so that they stay there beside the packed A block while the
     * strips pass; the strip, used that many times in a row, stays in L1.
     */
    public static final int PANEL_GROUP;
    /**
     * Columns of one packed block of B when all threads share it ({@link SharedPanelGemm}): twice NC, since it
     * lives in the shared L3 rather than in one core's L2, and a wider block means A is packed fewer times
     * (measured on the Wan shapes with 2 threads on Zen 4: 1536 columns 0-6% faster than 768).
     */
    public static final int SHARED_NC;

    static {
        long l1 = cacheBytes(1, 32 << 10);
        long l2 = cacheBytes(2, 1 << 20);
        // at least 256 deep: C is read and written once per K slice, and with both cores streaming C through the
        // shared L3 shorter slices cost more than the B micro-panel outgrowing half of L1 (one core measured no
        // difference between KC = 128 and 384 on Zen 4)
        int kc = (int) Math.clamp(l1 / 2 / (NR * Float.BYTES), 256, 512);
        KC = Integer.getInteger("loraid.gemm.kc", kc);
        int mc = (int) Math.clamp(l2 / 4 / ((long) KC * Float.BYTES), MR, 4096);
        MC = roundUp(Integer.getInteger("loraid.gemm.mc", mc), MR);
        NC = roundUp(Integer.getInteger("loraid.gemm.nc", 768), NR);
        SHARED_NC = 2 * NC;
        int group = (int) Math.clamp(l2 / 4 / ((long) KC * NR * Float.BYTES), 1, 64);
        PANEL_GROUP = Math.max(1, Integer.getInteger("loraid.gemm.group", group));
    }

    private GemmTiling() {
    }

    /**
     * x86 without AVX-512 has 16 vector registers (AVX-512 and every AArch64 vector ISA have 32). The preferred
     * species tells AVX-512 apart: it is 512 bits only where the JVM uses AVX-512 (not under -XX:UseAVX=2).
     */
    private static boolean sixteenRegisters() {
        String arch = System.getProperty("os.arch", "");
        return (arch.equals("amd64") || arch.equals("x86_64")) && SPECIES.vectorBitSize() < 512;
    }

    private static int rows(int mr) {
        if (mr != 4 && mr != 6) {
            throw new IllegalArgumentException("loraid.gemm.mr must be 4 or 6 (the micro-kernel's rows), not " + mr);
        }
        return mr;
    }

    static int roundUp(int x, int multiple) {
        return Math.max(multiple, (x + multiple - 1) / multiple * multiple);
    }

    /** One line describing the chosen tiling, for benchmark logs. */
    public static String describe() {
        return "gemm tiling: " + LANES + " fp32 lanes (" + SPECIES.vectorBitSize() + "-bit), MR=" + MR + " NR=" + NR
            + " KC=" + KC + " MC=" + MC + " NC=" + NC + " (shared " + SHARED_NC + "), " + PANEL_GROUP
            + " panels per strip of A";
    }

    /** Size of the level-{@code level} data (or unified) cache of cpu0 from sysfs, or {@code fallback}. */
    private static long cacheBytes(int level, long fallback) {
        Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache");
        for (int i = 0; i < 8; i++) {
            Path index = dir.resolve("index" + i);
            try {
                if (!Files.isDirectory(index)) {
                    break;
                }
                String type = Files.readString(index.resolve("type")).trim();
                if (Integer.parseInt(Files.readString(index.resolve("level")).trim()) == level
                    && !type.equals("Instruction")) {
                    return parseSize(Files.readString(index.resolve("size")).trim(), fallback);
                }
            } catch (IOException | RuntimeException e) {
                return fallback;
            }
        }
        return fallback;
    }

    private static long parseSize(String s, long fallback) {
        long unit = s.endsWith("K") ? 1 << 10 : s.endsWith("M") ? 1 << 20 : 1;
        String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
        long v = Long.parseLong(digits) * unit;
        return v > 0 ? v : fallback;
    }
}
