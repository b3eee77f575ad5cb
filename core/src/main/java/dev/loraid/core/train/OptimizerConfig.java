package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.autograd.optim.TorchSchedulers;
import dev.loraid.core.ParameterException;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Optimizer and learning-rate schedule of a training run (training.md §3.1–3.3).
 *
 * @param type            {@code --optimizer_type}: {@code AdamW} (the default; upstream's empty default means AdamW),
 *                        {@code AdamW8bit} (bitsandbytes', 8-bit moments), case-insensitive, also by their module paths,
 *                        {@code Adafactor} (transformers'), {@code prodigyopt.Prodigy} or
 *                        {@code schedulefree.AdamWScheduleFree}
 * @param args            {@code --optimizer_args} items {@code key=value}: AdamW's weight_decay, betas=(b1,b2), eps;
 *                        Adafactor's ({@link Optimizers#adafactorSettings}), Prodigy's ({@link Optimizers#prodigySettings}),
 *                        AdamWScheduleFree's ({@link Optimizers#scheduleFreeSettings})
 * @param learningRate    {@code --learning_rate} (default 2e-6)
 * @param scheduler       {@code --lr_scheduler} (default constant); Adafactor with relative steps replaces it by its own
 *                        ({@link #schedulerName})
 * @param warmupSteps     {@code --lr_warmup_steps}: a count, a ratio below 1 of the total steps, or "5%"
 * @param decaySteps      {@code --lr_decay_steps} (warmup_stable_decay), same forms
 * @param numCycles       {@code --lr_scheduler_num_cycles} (default 1)
 * @param power           {@code --lr_scheduler_power} (default 1)
 * @param minLrRatio      {@code --lr_scheduler_min_lr_ratio}, or null
 * @param timescale       {@code --lr_scheduler_timescale}, or null (= warmup)
 * @param stepRules       {@code --lr_scheduler_args step_rules=…} for piecewise_constant, or null
 * @param maxGradNorm     {@code --max_grad_norm} (default 1; 0 disables clipping)
 * @param schedulerType   {@code --lr_scheduler_type}: a torch.optim.lr_scheduler class ({@link TorchSchedulers}) that
 *                        replaces the schedule, built from {@code schedulerArgs} alone; null for none
 * @param schedulerArgs   {@code --lr_scheduler_args} items {@code key=value} for {@code schedulerType}
 */
public record OptimizerConfig(String type, List<String> args, double learningRate, String scheduler, String warmupSteps,
        String decaySteps, int numCycles, double power, Double minLrRatio, Integer timescale, String stepRules,
        double maxGradNorm, String schedulerType, List<String> schedulerArgs) {

    /** The optimizers a run can use, each with the class name upstream writes into {@code ss_optimizer}. */
    public enum Kind {
        /** torch's AdamW, by the names upstream's loader accepts (lower case). */
        ADAMW("torch.optim.adamw.AdamW", Set.of("adamw", "torch.optim.adamw", "torch.optim.adamw.adamw")),
        /** bitsandbytes' AdamW8bit (lower case): the built-in name and its module paths. */
        ADAMW_8BIT("bitsandbytes.optim.adamw.AdamW8bit", Set.of("adamw8bit", "bitsandbytes.optim.adamw8bit",
                "bitsandbytes.optim.adamw.adamw8bit")),
        /**
         * bitsandbytes' PagedAdamW8bit: AdamW8bit's step with its state in CUDA unified memory, which pages to the host
         * under pressure; here the same step with the state in device memory.
         */
        PAGED_ADAMW_8BIT("bitsandbytes.optim.adamw.PagedAdamW8bit", Set.of("pagedadamw8bit", "bitsandbytes.optim.pagedadamw8bit",
                "bitsandbytes.optim.adamw.pagedadamw8bit")),
        /**
         * transformers' Adafactor through upstream's built-in name only: its module path goes to the generic loader,
         * which skips the relative-step handling (§3.1).
         */
        ADAFACTOR("transformers.optimization.Adafactor", Set.of("adafactor")),
        /**
         * prodigyopt's Prodigy: upstream reaches it by its dotted path through the generic loader; "Prodigy" alone, the
         * name kohya's sd-scripts takes, is accepted too.
         */
        PRODIGY("prodigyopt.prodigy.Prodigy", Set.of("prodigyopt.prodigy", "prodigyopt.prodigy.prodigy", "prodigy")),
        /** schedulefree's AdamWScheduleFree, by its dotted path (upstream's generic loader) or kohya's bare name. */
        SCHEDULE_FREE("schedulefree.adamw_schedulefree.AdamWScheduleFree", Set.of("schedulefree.adamwschedulefree",
                "schedulefree.adamw_schedulefree.adamwschedulefree", "adamwschedulefree")),
        /** lion-pytorch's Lion, by its dotted path (upstream's generic loader) or kohya's bare name. */
        LION("lion_pytorch.lion_pytorch.Lion", Set.of("lion_pytorch.lion", "lion_pytorch.lion_pytorch.lion", "lion"));

        private final String className;
        private final Set<String> names;

        Kind(String className, Set<String> names) {
            this.className = className;
            this.names = names;
        }

        /** The module-qualified class name, as upstream's {@code ss_optimizer} starts. */
        public String className() {
            return className;
        }

        static Kind of(String type) {
            String t = type.toLowerCase(Locale.ROOT);
            for (Kind k : values()) {
                if (k.names.contains(t)) {
                    return k;
                }
            }
            return null;
        }
    }

    public OptimizerConfig {
        args = List.copyOf(args);
        schedulerArgs = schedulerArgs == null ? List.of() : List.copyOf(schedulerArgs);
        type = type == null || type.isBlank() ? "AdamW" : type;
        Kind kind = Kind.of(type);
        if (kind == null) {
            throw new ParameterException(named(param("OptimizerConfig.type"), " " + type
                    + " is not supported (supported: AdamW, AdamW8bit, PagedAdamW8bit, Adafactor, "
                    + "prodigyopt.Prodigy, schedulefree.AdamWScheduleFree, lion_pytorch.Lion)"));
        }
        if (!(learningRate > 0)) {
            throw new ParameterException(named(param("OptimizerConfig.learningRate"), " must be > 0, got " + learningRate));
        }
        if (maxGradNorm < 0) {
            throw new ParameterException(named(param("OptimizerConfig.maxGradNorm"),
                    " must be ≥ 0 (0 disables clipping), got " + maxGradNorm));
        }
        // fail at configuration time, before any model is opened
        switch (kind) {
            case ADAFACTOR -> Optimizers.adafactorSettings(args);
            case PRODIGY -> Optimizers.prodigySettings(args);
            case SCHEDULE_FREE -> Optimizers.scheduleFreeSettings(args);
            case LION -> Optimizers.LionArgs.parse(args);
            default -> Optimizers.AdamWArgs.parse(args);
        }
        if (schedulerType != null) {
            if (kind == Kind.SCHEDULE_FREE || relativeSteps(kind, args)) {
                throw new ParameterException(named(param("OptimizerConfig.schedulerType"), " " + schedulerType + " does not "
                        + "apply: " + type + " sets its own rate (no schedule)"));
            }
            try {
                TorchSchedulers.of(schedulerType, schedulerArgs);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(named(param("OptimizerConfig.schedulerType"), ": " + e.getMessage()));
            }
        }
        if (scheduler.toLowerCase(Locale.ROOT).startsWith("adafactor") && !relativeSteps(kind, args)) {
            throw new ParameterException(named(param("OptimizerConfig.scheduler"), " " + scheduler
                    + " is Adafactor's own schedule: it comes with --optimizer_type Adafactor and relative_step=True"));
        }
    }

    /** Without {@code --lr_scheduler_type}. */
    public OptimizerConfig(String type, List<String> args, double learningRate, String scheduler, String warmupSteps,
            String decaySteps, int numCycles, double power, Double minLrRatio, Integer timescale, String stepRules,
            double maxGradNorm) {
        this(type, args, learningRate, scheduler, warmupSteps, decaySteps, numCycles, power, minLrRatio, timescale, stepRules,
                maxGradNorm, null, List.of());
    }

    private static boolean relativeSteps(Kind kind, List<String> args) {
        return kind == Kind.ADAFACTOR && Optimizers.adafactorSettings(args).relativeStep();
    }

    /** Which optimizer {@link #type} names. */
    public Kind kind() {
        return Kind.of(type);
    }

    /** Whether {@code --optimizer_type} names bitsandbytes' (Paged)AdamW8bit (8-bit moments), rather than torch's AdamW. */
    public boolean eightBit() {
        return kind() == Kind.ADAMW_8BIT || kind() == Kind.PAGED_ADAMW_8BIT;
    }

    /**
     * Whether Adafactor sets its own rate each step (relative_step=True, its default): upstream then ignores
     * {@code --learning_rate} (it becomes the schedule's reported initial rate) and {@code --lr_scheduler}.
     */
    public boolean relativeSteps() {
        return relativeSteps(kind(), args);
    }

    /**
     * The schedule the run uses: {@link #scheduler}, or with Adafactor's relative steps upstream's
     * {@code adafactor:<lr>} (a constant, which takes no warmup), or for a schedule-free optimizer {@code schedulefree}
     * (upstream's dummy scheduler: the rate stays, the optimizer warms up itself).
     */
    public String schedulerName() {
        if (kind() == Kind.SCHEDULE_FREE) {
            return "schedulefree";
        }
        return relativeSteps() ? "adafactor:" + learningRate : scheduler;
    }

    /** Upstream's defaults: AdamW, lr 2e-6, constant, no warmup, clip at 1.0. */
    public static OptimizerConfig defaults() {
        return new OptimizerConfig("AdamW", List.of(), 2e-6, "constant", "0", "0", 1, 1.0, null, null, null, 1.0);
    }
}
