package dev.loraid.core.cache;

import dev.loraid.core.LoraidException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * One image or video of a dataset, before frame extraction (spec training.md §4.2).
 *
 * @param media       the image, video file or frame folder
 * @param stem        its base name without extension: the cache files' prefix
 * @param caption     the caption from a JSONL line, or null when it is read from {@code captionFile}
 * @param captionFile "<media without extension><caption_extension>" for directory datasets, else null
 * @param control     its Fun-Control video (a file or a frame folder), or null
 */
public record SourceItem(Path media, String stem, String caption, Path captionFile, Path control) {
    /** An item without a control video. */
    public SourceItem(Path media, String stem, String caption, Path captionFile) {
        this(media, stem, caption, captionFile, null);
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
