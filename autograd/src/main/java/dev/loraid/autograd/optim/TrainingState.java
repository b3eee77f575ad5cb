package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything needed to resume training, in one safetensors file (written atomically by
 * {@link SafetensorsWriter}): trainable parameters under {@code param/<name>}, optimizer state under
 * {@code optim/<name>.<slot>}, and the scheduler step in the metadata key {@value #STEP_KEY}.
 */
public final class TrainingState {
    public static final String STEP_KEY = "loraid.scheduler_step";
    private static final String PARAM = "param/";
    private static final String OPTIM = "optim/";

    private TrainingState() {
    }

    public static void save(Path file, Map<String, Parameter> params, Optimizer optimizer, LrScheduler scheduler,
                            Map<String, String> metadata) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        params.forEach((n, p) -> tensors.put(PARAM + n, p.data()));
        optimizer.stateDict().forEach((n, t) -> tensors.put(OPTIM + n, t));
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(STEP_KEY, Long.toString(scheduler == null ? 0 : scheduler.stepCount()));
        SafetensorsWriter.write(file, tensors, meta);
    }

    /**
     * Restores parameters (copied into their memory), optimizer state and the scheduler step from {@code file}.
     * Every parameter must be present with its shape; errors name the file and the keys.
     */
    public static void load(Path file, Map<String, Parameter> params, Optimizer optimizer, LrScheduler scheduler)
        throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            StateSource all = StateSource.of(f);
            StateSource saved = StateSource.stripPrefix(all, PARAM);
            StringBuilder problems = new StringBuilder();
            params.forEach((n, p) -> {
                if (!saved.keys().contains(n)) {
                    problems.append(" missing ").append(n).append(';');
                } else if (!saved.get(n).shape().equals(p.shape())) {
                    problems.append(' ').append(n).append(": expected ").append(p.shape()).append(", got ")
                        .append(saved.get(n).shape()).append(';');
                }
            });
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(file + ": cannot resume:" + problems);
            }
            try {
                optimizer.loadStateDict(StateSource.stripPrefix(all, OPTIM));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
            params.forEach((n, p) -> p.copyFrom(saved.get(n)));
            if (scheduler != null) {
                String step = f.metadata().get(STEP_KEY);
                scheduler.setStep(step == null ? 0 : Long.parseLong(step));
            }
        }
    }
}
