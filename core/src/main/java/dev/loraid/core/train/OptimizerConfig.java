package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Optimizer and learning-rate schedule of a training run (training.md §3.1–3.3).
 *
 * @param type            {@code --optimizer_type}: {@code AdamW} (the default; upstream's empty default means AdamW) or
 *                        {@code AdamW8bit} (bitsandbytes', 8-bit moments), case-insensitive, also by their module paths
 * @param args            {@code --optimizer_args} items {@code key=value}: weight_decay, betas=(b1,b2), eps
 * @param learningRate    {@code --learning_rate} (default 2e-6)
 * @param scheduler       {@code --lr_scheduler} (default constant)
 * @param warmupSteps     {@code --lr_warmup_steps}: a count, a ratio below 1 of the total steps, or "5%"
 * @param decaySteps      {@code --lr_decay_steps} (warmup_stable_decay), same forms
 * @param numCycles       {@code --lr_scheduler_num_cycles} (default 1)
 * @param power           {@code --lr_scheduler_power} (default 1)
 * @param minLrRatio      {@code --lr_scheduler_min_lr_ratio}, or null
 * @param timescale       {@code --lr_scheduler_timescale}, or null (= warmup)
 * @param stepRules       {@code --lr_scheduler_args step_rules=…} for piecewise_constant, or null
 * @param maxGradNorm     {@code --max_grad_norm} (default 1; 0 disables clipping)
 */
public record OptimizerConfig(String type, List<String> args, double learningRate, String scheduler, String warmupSteps,
        String decaySteps, int numCycles, double power, Double minLrRatio, Integer timescale, String stepRules,
        double maxGradNorm) {

    /** torch's AdamW, by the names upstream's loader accepts (lower case). */
    private static final Set<String> ADAMW = Set.of("adamw", "torch.optim.adamw", "torch.optim.adamw.adamw");
    /** bitsandbytes' AdamW8bit (lower case): the built-in name and its module paths. */
    private static final Set<String> ADAMW_8BIT = Set.of("adamw8bit", "bitsandbytes.optim.adamw8bit",
            "bitsandbytes.optim.adamw.adamw8bit");

    public OptimizerConfig {
        args = List.copyOf(args);
        type = type == null || type.isBlank() ? "AdamW" : type;
        String t = type.toLowerCase(Locale.ROOT);
        if (!ADAMW.contains(t) && !ADAMW_8BIT.contains(t)) {
            throw new ParameterException(named(param("OptimizerConfig.type"), " " + type
                    + " is not supported (supported: AdamW, AdamW8bit)"));
        }
        if (!(learningRate > 0)) {
            throw new ParameterException(named(param("OptimizerConfig.learningRate"), " must be > 0, got " + learningRate));
        }
        if (maxGradNorm < 0) {
            throw new ParameterException(named(param("OptimizerConfig.maxGradNorm"),
                    " must be ≥ 0 (0 disables clipping), got " + maxGradNorm));
        }
        Optimizers.AdamWArgs.parse(args); // fail at configuration time, before any model is opened
    }

    /** Whether {@code --optimizer_type} names bitsandbytes' AdamW8bit (8-bit moments), rather than torch's AdamW. */
    public boolean eightBit() {
        return ADAMW_8BIT.contains(type.toLowerCase(Locale.ROOT));
    }

    /** Upstream's defaults: AdamW, lr 2e-6, constant, no warmup, clip at 1.0. */
    public static OptimizerConfig defaults() {
        return new OptimizerConfig("AdamW", List.of(), 2e-6, "constant", "0", "0", 1, 1.0, null, null, null, 1.0);
    }
}
