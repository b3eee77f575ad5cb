package dev.loraid.core.generate;

import dev.loraid.wan.WanVariant;

/**
 * The task's default negative prompt (spec training.md §1.8: Wan's {@code sample_neg_prompt}; FLF2V prefixes
 * "镜头切换，"), used when a prompt gives none.
 */
public final class NegativePrompts {
    /** Wan 2.1/2.2's {@code sample_neg_prompt}. */
    public static final String WAN = "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
            + "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，"
            + "静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

    private NegativePrompts() {
    }

    public static String forTask(WanVariant task) {
        return task.name().startsWith("flf2v") ? "镜头切换，" + WAN : WAN;
    }
}
