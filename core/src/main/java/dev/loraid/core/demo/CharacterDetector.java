package dev.loraid.core.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * The demo's interference measure, the same arithmetic for every method. Each pixel goes to the nearest colour of the
 * demo's palette (background, the four base colours, each character's colour; blix's stripe colour counts as blix)
 * when it is within {@value #MAX_DISTANCE} (Euclidean RGB in [0, 1]), else to nothing. A character's
 * <em>presence</em> in a picture is its pixel count divided by the mean count of one instance in its own training
 * pictures (after the patch transform's round trip): 1.0 ≈ one character as drawn in training.
 * <ul>
 *   <li><b>recognised</b>: the mean over the prompt's characters of min(1, presence);</li>
 *   <li><b>leak</b>: the sum of the presences of the characters the prompt does <em>not</em> name (a character
 *       showing up where another was asked for); undefined when the prompt names all three.</li>
 * </ul>
 * Colour only: a character drawn in the right colour but the wrong shape still counts as recognised.
 */
public final class CharacterDetector {
    static final double MAX_DISTANCE = 0.3;
    private final double[] reference;

    /** @param references one list of training pictures per character, each picture showing it once */
    CharacterDetector(List<List<Picture>> references) {
        reference = new double[DemoScenes.CHARACTERS.size()];
        for (int c = 0; c < reference.length; c++) {
            double sum = 0;
            for (Picture p : references.get(c)) {
                sum += counts(p)[c];
            }
            reference[c] = sum / references.get(c).size();
        }
    }

    /** Mean pixels of one instance of each character in its training pictures. */
    public double[] reference() {
        return reference.clone();
    }

    /** Presence of each character (see the class comment). */
    public double[] presence(Picture p) {
        double[] n = counts(p);
        double[] out = new double[n.length];
        for (int c = 0; c < n.length; c++) {
            out[c] = n[c] / reference[c];
        }
        return out;
    }

    public static double recognised(double[] presence, List<Integer> requested) {
        return requested.stream().mapToDouble(c -> Math.min(1.0, presence[c])).average().orElse(Double.NaN);
    }

    public static double leak(double[] presence, List<Integer> requested) {
        if (requested.size() == presence.length) {
            return Double.NaN;
        }
        double sum = 0;
        for (int c = 0; c < presence.length; c++) {
            if (!requested.contains(c)) {
                sum += presence[c];
            }
        }
        return sum;
    }

    /** Pixels of each character's colours. */
    static double[] counts(Picture p) {
        List<float[]> palette = new ArrayList<>();
        List<Integer> owner = new ArrayList<>();
        palette.add(DemoScenes.BACKGROUND);
        owner.add(-1);
        for (DemoScenes.Colour c : DemoScenes.BASE_COLOURS) {
            palette.add(c.rgb());
            owner.add(-1);
        }
        for (int c = 0; c < DemoScenes.CHARACTERS.size(); c++) {
            palette.add(DemoScenes.CHARACTERS.get(c).colour().rgb());
            owner.add(c);
        }
        palette.add(DemoScenes.STRIPE);
        owner.add(1);
        int[] nearest = nearestCounts(p, palette);
        double[] n = new double[DemoScenes.CHARACTERS.size()];
        for (int k = 0; k < palette.size(); k++) {
            if (owner.get(k) >= 0) {
                n[owner.get(k)] += nearest[k];
            }
        }
        return n;
    }

    /**
     * The detector's pixel classification: how many pixels of {@code p} lie nearest each colour of {@code palette}
     * within {@value #MAX_DISTANCE} (Euclidean RGB), and at the last index how many lie within it of none.
     */
    public static int[] nearestCounts(Picture p, List<float[]> palette) {
        int[] n = new int[palette.size() + 1];
        for (int y = 0; y < p.height(); y++) {
            for (int x = 0; x < p.width(); x++) {
                int best = palette.size();
                double bestD = MAX_DISTANCE;
                for (int k = 0; k < palette.size(); k++) {
                    float[] col = palette.get(k);
                    double d = Math.sqrt(sq(p.get(0, x, y) - col[0]) + sq(p.get(1, x, y) - col[1]) + sq(p.get(2, x, y) - col[2]));
                    if (d < bestD) {
                        bestD = d;
                        best = k;
                    }
                }
                n[best]++;
            }
        }
        return n;
    }

    private static double sq(double v) {
        return v * v;
    }
}
