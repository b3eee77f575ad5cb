package dev.loraid.core.train;

import dev.loraid.core.lora.NetworkModule;
import dev.loraid.core.Reporter;
import java.nio.file.Path;

/**
 * What a running {@link Trainer} tells its caller: the {@link Reporter} lines (info, warnings) plus the plan, every
 * optimizer step, every validation and every file saved. The CLI draws a progress bar from these; a JVM service may
 * log them or stop the run by throwing from a callback. Every method but the Reporter ones has an empty default.
 */
public interface TrainListener extends Reporter {

    /**
     * The run's size, known once data and model are open: {@code loraModules} adapted layers of the {@code network} kind
     * (LoRA, LoHa, LoKr) with {@code loraParameters} trained numbers. {@code firstStep} is 0, or the resumed step.
     */
    record Plan(long totalSteps, int epochs, int batchesPerEpoch, int trainItems, NetworkModule network, int loraModules,
            long loraParameters, long firstStep) {
    }

    /** One optimizer update: {@code loss} of this step, {@code avrLoss} over the last epoch's worth of steps. */
    record Step(long step, long totalSteps, int epoch, double loss, double avrLoss, double lr, double gradNorm) {
    }

    default void started(Plan plan) {
    }

    default void stepped(Step step) {
    }

    default void validated(long step, double valLoss) {
    }

    default void saved(Path path) {
    }

    /** A listener that drops everything. */
    TrainListener SILENT = new TrainListener() {
        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
        }
    };
}
