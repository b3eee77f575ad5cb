package dev.loraid.wan.sample;

import java.util.List;
import java.util.Locale;

/**
 * Skip-layer guidance (SLG, training.md §6.3/§6.4, upstream {@code --slg_*}): on steps int(start·n) ≤ i &lt; int(end·n)
 * where CFG is applied, {@code original} adds {@code scale·(v_c − v_skip)} to the CFG velocity, v_skip being the
 * unconditional pass with {@code layers} skipped; {@code uncond} uses that skipped pass as the unconditional branch.
 *
 * @param layers block indices to skip; empty means SLG is off
 * @param mode   null means SLG is off (upstream's default: --slg_mode unset)
 */
public record SkipLayerGuidance(List<Integer> layers, double scale, double start, double end, Mode mode) {
    public enum Mode {
        ORIGINAL, UNCOND;

        public static Mode parse(String name) {
            return switch (name.strip().toLowerCase(Locale.ROOT)) {
                case "original" -> ORIGINAL;
                case "uncond" -> UNCOND;
                default -> throw new IllegalArgumentException("unknown SLG mode '" + name + "' (known: original, uncond)");
            };
        }
    }

    /** Upstream's defaults with SLG off: scale 3.0, start 0.0, end 0.3. */
    public static final SkipLayerGuidance OFF = new SkipLayerGuidance(List.of(), 3.0, 0.0, 0.3, null);

    public SkipLayerGuidance {
        layers = List.copyOf(layers);
    }

    public boolean enabled() {
        return mode != null && !layers.isEmpty();
    }

    /** Whether SLG acts on step i of n (when CFG is applied there). */
    public boolean activeAt(int i, int n) {
        return enabled() && i >= (int) (start * n) && i < (int) (end * n);
    }
}
