package dev.loraid.core.api;

import dev.loraid.core.lora.LoraApplication;
import dev.loraid.core.lora.LoraPairing;
import java.util.List;

/** LoRAs attached to a {@link LoadedModel} as adapters; {@link #close()} detaches them, restoring the base model. */
public final class AttachedLoras implements AutoCloseable {
    private final LoraApplication application;
    private boolean closed;

    AttachedLoras(LoraApplication application) {
        this.application = application;
    }

    /** Each file as applied: its LORAID slice (if any), multiplier and the blocks it touches. */
    public List<LoraPairing.Applied> applied() {
        return application.applied();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            application.detach();
        }
    }
}
