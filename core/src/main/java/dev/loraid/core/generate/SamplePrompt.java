package dev.loraid.core.generate;

/**
 * One prompt of a {@code --sample_prompts} file (spec training.md §6.1), with upstream's defaults for what the line did
 * not set: 256×256, 1 frame, 20 steps, shift 14.5 (musubi's default_discrete_flow_shift: pass {@code --fs}); width and
 * height floored to multiples of 8, frames to 4k + 1, steps clamped to 1..1000. Null means "the task's default"
 * (guidance, negative prompt) or "random" (seed).
 *
 * @param index          the prompt's position in the file ("enum" upstream), 0-based
 * @param guidanceScale  {@code --g}: embedded guidance, recorded but not used by Wan
 * @param cfgScale       {@code --l}: Wan's CFG scale, or null for the task's
 * @param imagePath      {@code --i}, {@code --ei}, {@code --cn}: conditioning files (start image, end image, control
 *                       video)
 * @param oneFrame       {@code --of}: one-frame inference's option string (train {@code --one_frame}), or null
 * @param controlImages  {@code --ci} (repeatable): one-frame inference's control images, in order
 */
public record SamplePrompt(int index, String prompt, int width, int height, int frameCount, Long seed, int steps,
        Double guidanceScale, double flowShift, Double cfgScale, String negativePrompt, String imagePath, String endImagePath,
        String controlPath, String oneFrame, java.util.List<String> controlImages) {
    public static final int DEFAULT_SIZE = 256;
    public static final int DEFAULT_STEPS = 20;
    public static final double DEFAULT_SHIFT = 14.5;

    public SamplePrompt {
        width = Math.max(8, width / 8 * 8);
        height = Math.max(8, height / 8 * 8);
        frameCount = Math.max(1, (frameCount - 1) / 4 * 4 + 1);
        steps = Math.max(1, Math.min(1000, steps));
        controlImages = controlImages == null ? java.util.List.of() : java.util.List.copyOf(controlImages);
    }
}
