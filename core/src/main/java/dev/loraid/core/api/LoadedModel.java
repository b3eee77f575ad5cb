package dev.loraid.core.api;

import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraApplication;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanModel;

/**
 * A Wan DiT opened by {@link Loraid#open}: the checkpoint file and the model built over it. On the CPU the weights
 * are views of the mapped file, so the model is usable until {@link #close()} (afterwards it says so, naming the
 * file). See {@link WanModel} for what may run concurrently.
 */
public final class LoadedModel implements AutoCloseable {
    private final WanCheckpoint checkpoint;
    private final WanModel model;

    LoadedModel(WanCheckpoint checkpoint, WanModel model) {
        this.checkpoint = checkpoint;
        this.model = model;
    }

    public WanModel model() {
        return model;
    }

    /** Attaches {@code loras} as adapters after the checks of a merge; close the result to detach them. */
    public AttachedLoras attach(Loras loras) {
        return attach(loras, Reporter.SILENT);
    }

    /** {@link #attach(Loras)}, reporting the pairing and any warning to {@code reporter}. */
    public AttachedLoras attach(Loras loras, Reporter reporter) {
        var s = loras.selection();
        return new AttachedLoras(LoraApplication.apply(model, s.files(), s.filters(), s.loraids(), s.multipliers(),
                s.blocksPerLoraid(), s.allowOverlap(), reporter));
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
