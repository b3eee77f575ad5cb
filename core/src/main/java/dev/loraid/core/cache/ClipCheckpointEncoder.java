package dev.loraid.core.cache;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.clip.ClipCheckpoint;
import dev.loraid.wan.clip.ClipVisionEncoder;
import java.io.IOException;
import java.nio.file.Path;

/** Wan's CLIP image encoder over its file (keep it open while encoding; the weights are views of the file on the CPU). */
public final class ClipCheckpointEncoder implements ClipEncoder, AutoCloseable {
    private final ClipCheckpoint checkpoint;
    private final ClipVisionEncoder encoder;

    private ClipCheckpointEncoder(ClipCheckpoint checkpoint, ClipVisionEncoder encoder) {
        this.checkpoint = checkpoint;
        this.encoder = encoder;
    }

    /** Opens {@code file} (Wan's {@code models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth}) on {@code device}. */
    public static ClipCheckpointEncoder open(Path file, Device device) {
        ClipCheckpoint ck;
        try {
            ck = ClipCheckpoint.open(file);
        } catch (IOException e) {
            throw new LoraidException("cannot open the CLIP file " + file + ": " + e.getMessage(), e);
        }
        try {
            return new ClipCheckpointEncoder(ck, ck.model(device));
        } catch (RuntimeException e) {
            ck.close();
            throw new LoraidException(e.getMessage(), e);
        }
    }

    @Override
    public Tensor encode(Tensor image) {
        return encoder.encode(image);
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
