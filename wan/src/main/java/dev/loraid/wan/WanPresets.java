package dev.loraid.wan;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every released Wan variant (spec wan.md §1.1, §1.2; TI2V-5B from the official Wan2.2 config) and the tiny test
 * configs of the golden files. Names are musubi's task keys.
 */
public final class WanPresets {
    private static final Map<String, WanVariant> VARIANTS = new LinkedHashMap<>();

    /** The golden files' "config A" (testdata/golden/README.md): dim 64, 4 heads, 4 blocks. */
    public static final WanConfig TINY = new WanConfig("2.1", 1, 2, 2, 4, 4, 64, 128, 4, 4, 32, 32, 8, 1e-6,
            false, false);
    /** {@link #TINY} with the Wan 2.2 per-token timestep path. */
    public static final WanConfig TINY_V22 = TINY.withModelVersion("2.2");
    /** A tiny I2V (2.1) config with the CLIP image branch, for shape and loading tests. */
    public static final WanConfig TINY_I2V = new WanConfig("2.1", 1, 2, 2, 12, 4, 64, 128, 4, 2, 32, 32, 8, 1e-6,
            true, false);

    /** {@link #TINY_I2V} with FLF2V's learned positions over two images' CLIP tokens ({@code img_emb.emb_pos}). */
    public static final WanConfig TINY_FLF2V = new WanConfig("2.1", 1, 2, 2, 12, 4, 64, 128, 4, 2, 32, 32, 8, 1e-6,
            true, true);

    /** A tiny Wan 2.2 image-to-video config (y concatenated to the latent, no CLIP branch), as i2v-A14B's experts. */
    public static final WanConfig TINY_I2V_V22 = new WanConfig("2.2", 1, 2, 2, 12, 4, 64, 128, 4, 2, 32, 32, 8, 1e-6,
            false, false);

    private static final int[] VAE21 = {4, 8, 8};

    static {
        WanConfig t13 = WanConfig.released("2.1", 16, 16, 1536, 8960, 12, 30, false, false);
        WanConfig t14 = WanConfig.released("2.1", 16, 16, 5120, 13824, 40, 40, false, false);
        WanConfig i14 = WanConfig.released("2.1", 36, 16, 5120, 13824, 40, 40, true, false);
        WanConfig f14 = WanConfig.released("2.1", 36, 16, 5120, 13824, 40, 40, true, true);
        single("t2v-1.3B", t13, 5.0, 50, 5.0);
        single("t2v-14B", t14, 5.0, 50, 5.0);
        single("t2i-14B", t14, 5.0, 50, 5.0);
        single("i2v-14B", i14, 5.0, 40, 5.0);
        single("flf2v-14B", f14, 5.0, 40, 5.0);
        experts("t2v-A14B", t14.withModelVersion("2.2"), 0.875, 12.0, 3.0, 4.0);
        experts("i2v-A14B", WanConfig.released("2.2", 36, 16, 5120, 13824, 40, 40, false, false), 0.900, 5.0, 3.5, 3.5);
        add(new WanVariant("ti2v-5B", WanConfig.released("2.2", 48, 48, 3072, 14336, 24, 30, false, false), List.of(),
                0, 5.0, 50, 5.0, 5.0, 48, new int[] {4, 16, 16}, 121, 24));
        // Fun-Control (§1.1 remark): in_dim 48 with the i2v cross-attention
        single("t2v-1.3B-FC", WanConfig.released("2.1", 48, 16, 1536, 8960, 12, 30, true, false), 5.0, 50, 5.0);
        single("t2v-14B-FC", WanConfig.released("2.1", 48, 16, 5120, 13824, 40, 40, true, false), 5.0, 50, 5.0);
        single("i2v-14B-FC", WanConfig.released("2.1", 48, 16, 5120, 13824, 40, 40, true, false), 5.0, 40, 5.0);
        add(new WanVariant("tiny", TINY, List.of(), 0, 5.0, 4, 5.0, 5.0, 4, VAE21, 5, 16));
        add(new WanVariant("tiny-v22", TINY_V22, List.of(), 0, 5.0, 4, 5.0, 5.0, 4, VAE21, 5, 16));
        add(new WanVariant("tiny-i2v", TINY_I2V_V22, List.of(), 0, 5.0, 4, 5.0, 5.0, 4, VAE21, 5, 16));
        // the Wan 2.1 I2V layout at toy size: y in the input and the CLIP image branch, as i2v-14B
        add(new WanVariant("tiny-i2v-clip", TINY_I2V, List.of(), 0, 5.0, 4, 5.0, 5.0, 4, VAE21, 5, 16));
        add(new WanVariant("tiny-flf2v", TINY_FLF2V, List.of(), 0, 5.0, 4, 5.0, 5.0, 4, VAE21, 5, 16));
        // Fun-Control I2V at toy size: in_dim 12 = 4 noise + 4 control + 4 image channels (i2v-14B-FC: 16 + 16 + 16)
        add(new WanVariant("tiny-i2v-FC", TINY_I2V, List.of(), 0, 5.0, 4, 5.0, 5.0, 4, VAE21, 5, 16));
        // and Fun-Control T2V at toy size (t2v-1.3B-FC's path: the control video alone, no CLIP tokens)
        add(new WanVariant("tiny-t2v-FC", TINY_I2V, List.of(), 0, 5.0, 4, 5.0, 5.0, 4, VAE21, 5, 16));
        // two tiny experts in the A14B roles (boundary and guidance scales of t2v-A14B), for the dual-expert paths
        add(new WanVariant("tiny-A14B", TINY_V22, List.of(WanVariant.HIGH_NOISE, WanVariant.LOW_NOISE), 0.875, 5.0, 4, 3.0,
                4.0, 4, VAE21, 5, 16));
    }

    private WanPresets() {
    }

    private static void single(String name, WanConfig c, double shift, int steps, double guidance) {
        add(new WanVariant(name, c, List.of(), 0, shift, steps, guidance, guidance, 16, VAE21, 81, 16));
    }

    private static void experts(String name, WanConfig c, double boundary, double shift, double low, double high) {
        add(new WanVariant(name, c, List.of(WanVariant.HIGH_NOISE, WanVariant.LOW_NOISE), boundary, shift, 40, low,
                high, 16, VAE21, 81, 16));
    }

    private static void add(WanVariant v) {
        VARIANTS.put(v.name().toLowerCase(Locale.ROOT), v);
    }

    /** Every variant, released ones first. */
    public static List<WanVariant> all() {
        return Collections.unmodifiableList(new ArrayList<>(VARIANTS.values()));
    }

    /** The variant called {@code name} (case-insensitive); throws listing the known names. */
    public static WanVariant get(String name) {
        WanVariant v = VARIANTS.get(name.toLowerCase(Locale.ROOT));
        if (v == null) {
            throw new IllegalArgumentException("unknown Wan variant '" + name + "' (known: "
                    + String.join(", ", VARIANTS.values().stream().map(WanVariant::name).toList()) + ")");
        }
        return v;
    }

    /**
     * The variants whose DiT has exactly this config's shapes and version (several can match: t2v-14B and
     * t2i-14B share one DiT). Empty for a config that is not a known release.
     */
    public static List<WanVariant> matching(WanConfig c) {
        return VARIANTS.values().stream().filter(v -> v.config().equals(c)).toList();
    }

}
