package dev.loraid.core.train;

import dev.loraid.autograd.GradMode;
import dev.loraid.autograd.Var;
import dev.loraid.core.data.Batch;
import dev.loraid.core.data.BatchLoader;
import dev.loraid.core.data.DatasetGroup;
import dev.loraid.core.data.TrainSample;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.wan.WanModel;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A validation loss that means something across runs (none of the Python trainers has one): the flow-matching loss of
 * every validation item at the fixed noise levels {@link #SIGMAS}, each with fixed noise from
 * {@link RandomStreams#validationNoise} — independent of {@code --seed}, of the step and of the LoRA — averaged
 * unweighted. Two LoRAs, or two steps of one run, are compared on exactly the same noisy inputs. The model sees
 * timestep σ·1000 (the discrete table's convention); dropouts are off. The σ values of an item that go to one
 * expert run as one batch (one DiT call).
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
                    for (boolean high : new boolean[] {false, true}) {
                        total += losses(s, item, high);
                    }
                    count += SIGMAS.length;
                    item++;
                }
            }
        }
        return total / count;
    }

    /** The summed losses of item {@code s} at the σ of one expert (all σ without experts), in one DiT call. */
    private double losses(TrainSample s, long item, boolean high) {
        List<Integer> ks = IntStream.range(0, SIGMAS.length).filter(k -> models.isHigh(SIGMAS[k] * 1000) == high)
                .boxed().toList();
        if (ks.isEmpty()) {
            return 0;
        }
        WanModel model = models.model(high);
        try (MemoryScope scope = MemoryScope.open()) {
            Var latents = Var.constant(TrainStep.onDevice(s.latents(), model.device()));
            List<Var> noisy = new ArrayList<>();
            List<Var> targets = new ArrayList<>();
            for (int k : ks) {
                Var eps = Var.constant(TrainStep.noise(latents.data(), RandomStreams.validationNoise(item, k)));
                noisy.add(FlowMatching.noisy(latents, eps, SIGMAS[k]));
                targets.add(FlowMatching.target(latents, eps));
            }
            double[] timesteps = ks.stream().mapToDouble(k -> SIGMAS[k] * 1000).toArray();
            Var pred = TrainStep.predict(model, Collections.nCopies(ks.size(), s), noisy, timesteps);
            double sum = 0;
            for (int j = 0; j < ks.size(); j++) {
                sum += FlowMatching.loss(pred.narrow(0, j, 1).squeeze(0), targets.get(j), 1.0).data().toDoubleArray()[0];
            }
            return sum;
        }
    }
}
