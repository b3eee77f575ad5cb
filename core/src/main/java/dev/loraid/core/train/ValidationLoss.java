package dev.loraid.core.train;

import dev.loraid.autograd.GradMode;
import dev.loraid.autograd.Var;
import dev.loraid.core.data.Batch;
import dev.loraid.core.data.BatchLoader;
import dev.loraid.core.data.DatasetGroup;
import dev.loraid.core.data.TrainSample;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.wan.WanModel;

/**
 * A validation loss that means something across runs (none of the Python trainers has one): the flow-matching loss of
 * every validation item at the fixed noise levels {@link #SIGMAS}, each with fixed noise from
 * {@link RandomStreams#validationNoise} — independent of {@code --seed}, of the step and of the LoRA — averaged
 * unweighted. Two LoRAs, or two steps of one run, are compared on exactly the same noisy inputs. The model sees
 * timestep σ·1000 (the discrete table's convention); dropouts are off.
 */
public final class ValidationLoss {
    /** Evenly spread over the noise range, one per quarter (the midpoints). */
    static final double[] SIGMAS = {0.125, 0.375, 0.625, 0.875};
    private static final long ORDER_SEED = 0;

    private final DatasetGroup data;
    private final TrainModels models;

    public ValidationLoss(DatasetGroup data, TrainModels models) {
        this.data = data;
        this.models = models;
    }

    public double loss() {
        double total = 0;
        long count = 0;
        long item = 0;
        try (GradMode.Scope noGrad = GradMode.noGrad()) {
            for (Batch b : data.batches(ORDER_SEED, 0)) {
                for (TrainSample s : BatchLoader.load(b)) {
                    for (int k = 0; k < SIGMAS.length; k++) {
                        total += one(s, item, k);
                        count++;
                    }
                    item++;
                }
            }
        }
        return total / count;
    }

    private double one(TrainSample s, long item, int k) {
        double sigma = SIGMAS[k];
        double timestep = sigma * 1000;
        WanModel model = models.model(models.isHigh(timestep));
        try (MemoryScope scope = MemoryScope.open()) {
            Var latents = Var.constant(TrainStep.onDevice(s.latents(), model.device()));
            Var eps = Var.constant(TrainStep.noise(latents.data(), RandomStreams.validationNoise(item, k)));
            Var pred = TrainStep.predict(model, s, FlowMatching.noisy(latents, eps, sigma), timestep);
            return FlowMatching.loss(pred, FlowMatching.target(latents, eps), 1.0).data().toDoubleArray()[0];
        }
    }
}
