package dev.loraid.core.cache;

import dev.loraid.core.LoraidException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * One image or video of a dataset, before frame extraction (spec training.md §4.2).
 *
 * @param media       the image, video file or frame folder
 * @param stem        its base name without extension: the cache files' prefix
 * @param caption     the caption from a JSONL line, or null when it is read from {@code captionFile}
 * @param captionFile "<media without extension><caption_extension>" for directory datasets, else null
 * @param controls    its control media, in order: a video's Fun-Control video (a file or a frame folder), an image's
 *                    control images; empty for none
 */
public record SourceItem(Path media, String stem, String caption, Path captionFile, List<Path> controls) {
    public SourceItem {
        controls = controls == null ? List.of() : List.copyOf(controls);
    }

    /** An item without control media. */
    public SourceItem(Path media, String stem, String caption, Path captionFile) {
        this(media, stem, caption, captionFile, List.of());
    }

    /** The same item with the control media {@code controls}. */
    public SourceItem withControls(List<Path> controls) {
        return new SourceItem(media, stem, caption, captionFile, controls);
    }

    /** The caption, stripped as Python's {@code str.strip()}; a missing or unreadable caption file names the file. */
    public String readCaption() {
        if (caption != null) {
            return caption;
        }
        try {
            return Files.readString(captionFile).strip();
        } catch (NoSuchFileException e) {
            throw new LoraidException(media + ": no caption: " + captionFile + " does not exist");
        } catch (CharacterCodingException e) {
            throw new LoraidException(captionFile + ": the caption is not valid UTF-8", e);
        } catch (IOException e) {
            throw new LoraidException(captionFile + ": cannot read the caption (" + e.getMessage() + ")", e);
        }
    }
}
