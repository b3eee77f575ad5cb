package dev.loraid.wan;

import java.util.Arrays;

/** Per-token timesteps of Wan 2.2 (spec wan.md §2.4). */
public final class Timesteps {
    private Timesteps() {
    }

    /**
     * TI2V-5B: with a conditioning image the tokens of latent frame 0 (the first h·w tokens, f-major order) get
     * t = 0 and every other token the step's t; without an image all tokens get t.
     */
    public static double[] imageConditioned(int[] grid, double t, boolean imageGiven) {
        double[] out = new double[grid[0] * grid[1] * grid[2]];
        Arrays.fill(out, t);
        if (imageGiven) {
            Arrays.fill(out, 0, grid[1] * grid[2], 0.0);
        }
        return out;
    }
}
