package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;

/**
 * The SAI model-spec fields a user sets (training.md §5.3, upstream's {@code --metadata_*}); null fields take
 * upstream's defaults: the output name as title, "1280x720", "wan2.1" as architecture (before "/lora").
 *
 * @param title        {@code --metadata_title}
 * @param author       {@code --metadata_author}
 * @param description  {@code --metadata_description}
 * @param license      {@code --metadata_license}
 * @param tags         {@code --metadata_tags}, comma-separated
 * @param resolution   {@code --metadata_reso}: "W,H" or one number for both
 * @param architecture {@code --metadata_arch}: replaces "wan2.1" in {@code modelspec.architecture}
 */
public record ModelSpec(String title, String author, String description, String license, String tags, String resolution,
        String architecture) {
    public static final ModelSpec DEFAULTS = new ModelSpec(null, null, null, null, null, null, null);

    public ModelSpec {
        if (resolution != null && !resolution.strip().matches("\\d+(\\s*,\\s*\\d+)?")) {
            throw new ParameterException(named(param("ModelSpec.resolution"), " must be W,H or one number, got '"
                    + resolution + "'"));
        }
    }

    /** {@code modelspec.resolution}: "WxH" (upstream's "1280x720" when not set). */
    public String resolutionText() {
        if (resolution == null) {
            return "1280x720";
        }
        String[] wh = resolution.strip().split("\\s*,\\s*");
        return wh[0] + "x" + (wh.length == 1 ? wh[0] : wh[1]);
    }
}
