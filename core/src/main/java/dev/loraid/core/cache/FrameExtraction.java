package dev.loraid.core.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Which frame ranges of a video become cache items (spec training.md §4.3, upstream {@code VideoDataset}): target
 * frame counts rounded down to 4k+1, crops per extraction mode, and {@code source_fps} resampling to Wan's 16 fps.
 */
public final class FrameExtraction {
    /** Wan's frame rate; {@code source_fps} resamples to it. */
    public static final double TARGET_FPS = 16.0;
    public static final List<String> MODES = List.of("head", "chunk", "slide", "uniform", "full");

    /** Frames [start, start + length) of the decoded video. */
    public record Crop(int start, int length) {
    }

    private FrameExtraction() {
    }

    /** Deduplicated, sorted, each rounded down to 4k+1: f' = floor((f-1)/4)*4 + 1. */
    public static List<Integer> roundTargetFrames(List<Integer> targetFrames) {
        TreeSet<Integer> set = new TreeSet<>();
        for (int f : targetFrames) {
            if (f < 1) {
                throw new IllegalArgumentException("target_frames must be ≥ 1, got " + f);
            }
            set.add((f - 1) / 4 * 4 + 1);
        }
        return List.copyOf(set);
    }

    /**
     * The crops of a video of {@code n} decoded frames, in upstream's order (by target frame count, then start).
     *
     * @param targetFrames already rounded ({@link #roundTargetFrames})
     */
    public static List<Crop> crops(String mode, int n, List<Integer> targetFrames, int frameStride, int frameSample,
                                   int maxFrames) {
        List<Crop> out = new ArrayList<>();
        switch (mode.toLowerCase(Locale.ROOT)) {
            case "head" -> {
                for (int f : targetFrames) {
                    if (n >= f) {
                        out.add(new Crop(0, f));
                    }
                }
            }
            case "chunk" -> {
                for (int f : targetFrames) {
                    for (int s = 0; s + f <= n; s += f) {
                        out.add(new Crop(s, f));
                    }
                }
            }
            case "slide" -> {
                if (frameStride < 1) {
                    throw new IllegalArgumentException("frame_stride must be ≥ 1, got " + frameStride);
                }
                for (int f : targetFrames) {
                    if (n >= f) {
                        for (int s = 0; s <= n - f; s += frameStride) {
                            out.add(new Crop(s, f));
                        }
                    }
                }
            }
            case "uniform" -> {
                if (frameSample < 1) {
                    throw new IllegalArgumentException("frame_sample must be ≥ 1, got " + frameSample);
                }
                for (int f : targetFrames) {
                    if (n >= f) {
                        for (int s : linspaceInt(0, n - f, frameSample)) {
                            out.add(new Crop(s, f));
                        }
                    }
                }
            }
            case "full" -> {
                int m = Math.min(n, maxFrames);
                if (m >= 1) {
                    out.add(new Crop(0, (m - 1) / 4 * 4 + 1));
                }
            }
            default -> throw new IllegalArgumentException("frame_extraction '" + mode + "': expected one of " + MODES);
        }
        return out;
    }

    /** numpy {@code np.linspace(a, b, num).astype(int)} (truncation toward zero). */
    static int[] linspaceInt(int a, int b, int num) {
        int[] out = new int[num];
        if (num == 1) {
            out[0] = a;
            return out;
        }
        double step = (double) (b - a) / (num - 1);
        for (int i = 0; i < num; i++) {
            // numpy: a + i*step, and the last is exactly b
            out[i] = i == num - 1 ? b : (int) (a + i * step);
        }
        return out;
    }

    /**
     * How many decoded frames a mode needs: "head" stops after the longest target (§4.3), "full" after max_frames,
     * the others read the whole video.
     */
    public static int decodeLimit(String mode, List<Integer> targetFrames, int maxFrames) {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "head" -> targetFrames.isEmpty() ? 0 : targetFrames.getLast();
            case "full" -> maxFrames;
            default -> Integer.MAX_VALUE;
        };
    }

    /** A frame filter keeping frame i when floor(i·16/source_fps) changes (no resampling when sourceFps is null). */
    public static Videos.FrameFilter filter(Double sourceFps, int limit) {
        return new Videos.FrameFilter() {
            @Override
            public boolean keep(int i) {
                if (sourceFps == null || i == 0) {
                    return true;
                }
                double r = TARGET_FPS / sourceFps;
                return Math.floor(i * r) != Math.floor((i - 1) * r);
            }

            @Override
            public int limit() {
                return limit;
            }
        };
    }
}
