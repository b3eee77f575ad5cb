package dev.loraid.core.train;

import dev.loraid.core.lora.NetworkMetadata;
import dev.loraid.core.plan.LoraidSlice;
import dev.loraid.wan.quant.Fp8Load;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The metadata of every LoRA file a run saves (training.md §5.3, loraid.md REQ-META-1/2): upstream's {@code ss_*} keys
 * with their meaning unchanged, the {@code ss_loraid*} keys of a LORAID run, and the SAI model-spec keys. A key whose
 * value is unknown is left out, never written empty; the hashes are added by the writer.
 */
public final class TrainMetadata {
    /** Kept with {@code --no_metadata} (upstream's "minimum" set). */
    private static final List<String> MINIMUM = List.of("ss_base_model_version", "ss_network_module", "ss_network_dim",
            "ss_network_alpha", "ss_network_args");

    private final Map<String, String> fixed;
    private final boolean minimumOnly;

    /**
     * The keys known when training starts.
     *
     * @param rank/alpha the network's (alpha after the "0 means rank" rule)
     */
    public TrainMetadata(TrainConfig c, int rank, double alpha, NetworkArgs args, Optional<LoraidSlice> slice,
            int numTrainItems, int batchesPerEpoch, int numEpochs, long maxTrainSteps, long warmupSteps,
            String datasetsJson, long sessionId, double startedAt) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ss_session_id", Long.toString(sessionId));
        m.put("ss_training_started_at", Double.toString(startedAt));
        m.put("ss_output_name", c.save().outputName());
        // with Adafactor's relative steps upstream sets args.learning_rate to None before writing it
        m.put("ss_learning_rate", c.optimizer().relativeSteps() ? "None" : Double.toString(c.optimizer().learningRate()));
        m.put("ss_num_train_items", Integer.toString(numTrainItems));
        m.put("ss_num_batches_per_epoch", Integer.toString(batchesPerEpoch));
        m.put("ss_num_epochs", Integer.toString(numEpochs));
        m.put("ss_gradient_checkpointing", python(c.gradientCheckpointing()));
        m.put("ss_gradient_checkpointing_cpu_offload", python(c.checkpointOffload()));
        m.put("ss_gradient_accumulation_steps", Integer.toString(c.gradientAccumulationSteps()));
        m.put("ss_max_train_steps", Long.toString(maxTrainSteps));
        m.put("ss_lr_warmup_steps", Long.toString(warmupSteps));
        // upstream rewrites --lr_scheduler to adafactor:<lr> for Adafactor's relative steps; a schedule-free
        // optimizer's dummy scheduler leaves the flag as given
        m.put("ss_lr_scheduler", c.optimizer().relativeSteps() ? c.optimizer().schedulerName() : c.optimizer().scheduler());
        m.put("ss_base_model_version", "wan");
        m.putAll(NetworkMetadata.of(c.network().module(), rank, alpha, c.network().dropout(), args.raw(), slice));
        m.put("ss_mixed_precision", c.mixedPrecision().flagValue());
        m.put("ss_seed", Long.toString(c.seed()));
        if (c.save().trainingComment() != null) {
            m.put("ss_training_comment", c.save().trainingComment());
        }
        m.put("ss_optimizer", optimizerName(c.optimizer()));
        m.put("ss_max_grad_norm", Double.toString(c.optimizer().maxGradNorm()));
        m.put("ss_fp8_base", python(c.fp8() != Fp8Load.NONE));
        m.put("ss_full_fp16", python(false));
        m.put("ss_full_bf16", python(false));
        TimestepConfig t = c.timesteps();
        m.put("ss_weighting_scheme", t.weighting().name().toLowerCase(java.util.Locale.ROOT));
        m.put("ss_logit_mean", Double.toString(t.logitMean()));
        m.put("ss_logit_std", Double.toString(t.logitStd()));
        m.put("ss_mode_scale", Double.toString(t.modeScale()));
        m.put("ss_guidance_scale", Double.toString(1.0));
        m.put("ss_timestep_sampling", t.sampling().name().toLowerCase(java.util.Locale.ROOT));
        m.put("ss_sigmoid_scale", Double.toString(t.sigmoidScale()));
        m.put("ss_discrete_flow_shift", Double.toString(t.discreteFlowShift()));
        if (datasetsJson != null) {
            m.put("ss_datasets", datasetsJson);
        }
        m.put("ss_sd_model_name", c.dit().getFileName().toString());
        if (c.vae() != null) {
            m.put("ss_vae_name", c.vae().getFileName().toString());
        }
        ModelSpec spec = c.save().modelSpec();
        m.put("modelspec.sai_model_spec", "1.0.0");
        m.put("modelspec.architecture", (spec.architecture() != null ? spec.architecture() : "wan2.1") + "/lora");
        m.put("modelspec.implementation", "https://github.com/Wan-Video/Wan2.1");
        m.put("modelspec.title", spec.title() != null ? spec.title() : c.save().outputName());
        putIfGiven(m, "modelspec.author", spec.author());
        putIfGiven(m, "modelspec.description", spec.description());
        putIfGiven(m, "modelspec.license", spec.license());
        putIfGiven(m, "modelspec.tags", spec.tags());
        m.put("modelspec.date", LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME));
        m.put("modelspec.resolution", spec.resolutionText());
        if (t.minTimestep() != null || t.maxTimestep() != null) {
            m.put("modelspec.timestep_range", (t.minTimestep() == null ? 0 : t.minTimestep()) + ","
                    + (t.maxTimestep() == null ? 1000 : t.maxTimestep()));
        }
        this.fixed = m;
        this.minimumOnly = c.save().noMetadata();
    }

    private static void putIfGiven(Map<String, String> m, String key, String value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    /** The metadata of a file saved after {@code steps} updates in epoch {@code epoch} (1-based, as upstream). */
    public Map<String, String> at(long steps, int epoch, double finishedAt) {
        Map<String, String> m = new LinkedHashMap<>(fixed);
        m.put("ss_training_finished_at", Double.toString(finishedAt));
        m.put("ss_steps", Long.toString(steps));
        m.put("ss_epoch", Integer.toString(epoch));
        if (minimumOnly) {
            // upstream adds the model-spec keys to the minimum ones too (§5.3: "added always")
            m.keySet().removeIf(k -> !MINIMUM.contains(k) && !k.startsWith("ss_loraid") && !k.startsWith("modelspec."));
        }
        return m;
    }

    /**
     * Upstream's {@code optimizer_name(k=v,…)}: for Adafactor its kwargs gain {@code relative_step=True} when not given
     * (upstream adds the default before logging them).
     */
    static String optimizerName(OptimizerConfig o) {
        String name = o.kind().className();
        List<String> args = new ArrayList<>(o.args());
        if (o.kind() == OptimizerConfig.Kind.ADAFACTOR && args.stream().noneMatch(a -> a.strip().startsWith("relative_step="))) {
            args.add("relative_step=True");
        }
        return args.isEmpty() ? name : name + "(" + String.join(",", args) + ")";
    }

    private static String python(boolean b) {
        return b ? "True" : "False";
    }
}
