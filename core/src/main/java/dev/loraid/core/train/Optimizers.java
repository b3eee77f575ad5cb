package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.core.Reporter;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.optim.Adafactor;
import dev.loraid.autograd.optim.AdamW;
import dev.loraid.autograd.optim.Lion;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.autograd.optim.ParamGroup;
import dev.loraid.autograd.optim.Prodigy;
import dev.loraid.autograd.optim.ScheduleFreeAdamW;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The optimizer of a run (training.md §2.5, §3.1): AdamW (or bitsandbytes' AdamW8bit: {@link AdamW#eightBit}) with
 * torch's defaults unless {@code --optimizer_args} says otherwise ({@code weight_decay=…}, {@code betas=(b1,b2)},
 * {@code eps=…}), transformers' {@link Adafactor}, prodigyopt's {@link Prodigy} or schedulefree's
 * {@link ScheduleFreeAdamW}, each with its own ({@link OptimizerArgs}); with {@code loraplus_lr_ratio} the lora_up
 * weights form a second group at lr·ratio (LoRA+; Adafactor's relative steps ignore group rates, as upstream, and
 * Prodigy refuses it).
 */
public final class Optimizers {
    private Optimizers() {
    }

    /**
     * AdamW's optimizer arguments (torch defaults: weight_decay 0.01, betas (0.9, 0.999), eps 1e-8), each checked
     * against its range: weight_decay ≥ 0, betas in [0, 1), eps > 0.
     */
    public record AdamWArgs(double weightDecay, double beta1, double beta2, double eps) {
        public static AdamWArgs parse(List<String> items) {
            OptimizerArgs a = OptimizerArgs.parse(items, "AdamW", List.of("weight_decay", "betas", "eps"));
            double[] betas = a.pair("betas", 0.9, 0.999, 0, Math.nextDown(1.0), "in [0, 1)");
            return new AdamWArgs(a.number("weight_decay", 0.01, 0, Double.MAX_VALUE, "≥ 0"), betas[0], betas[1],
                    a.number("eps", 1e-8, Double.MIN_VALUE, Double.MAX_VALUE, "> 0"));
        }
    }

    /** lion-pytorch's arguments (defaults betas (0.9, 0.99), weight_decay 0, decoupled_weight_decay False). */
    public record LionArgs(double beta1, double beta2, double weightDecay, boolean decoupled) {
        public static LionArgs parse(List<String> items) {
            OptimizerArgs a = OptimizerArgs.parse(items, "Lion", List.of("betas", "weight_decay", "decoupled_weight_decay",
                    "use_triton"));
            a.bool("use_triton", false); // chooses upstream's kernel, not the math
            double[] betas = a.pair("betas", 0.9, 0.99, 0, 1, "in [0, 1]");
            return new LionArgs(betas[0], betas[1], a.number("weight_decay", 0.0, 0, Double.MAX_VALUE, "≥ 0"),
                    a.bool("decoupled_weight_decay", false));
        }
    }

    /**
     * Adafactor's {@code --optimizer_args} over transformers' defaults ({@link Adafactor.Settings#defaults}): eps=(e1,e2),
     * clip_threshold, decay_rate, beta1 (a number or None), weight_decay, and scale_parameter, relative_step,
     * warmup_init (True or False). As upstream, warmup_init=True turns relative_step on; {@code lr} is refused (upstream
     * passes the rate itself, so a second one fails there too).
     */
    public static Adafactor.Settings adafactorSettings(List<String> items) {
        Adafactor.Settings d = Adafactor.Settings.defaults();
        OptimizerArgs a = OptimizerArgs.parse(items, "Adafactor", List.of("eps", "clip_threshold", "decay_rate", "beta1",
                "weight_decay", "scale_parameter", "relative_step", "warmup_init", "lr"));
        if (a.has("lr")) {
            throw a.fail("lr", "Adafactor's rate is --learning_rate (with relative_step=False), not an optimizer argument");
        }
        double[] eps = a.pair("eps", d.eps1(), d.eps2(), 0, Double.MAX_VALUE, "≥ 0");
        boolean warmupInit = a.bool("warmup_init", d.warmupInit());
        return new Adafactor.Settings(eps[0], eps[1], a.number("clip_threshold", d.clipThreshold(), Double.MIN_VALUE,
                Double.MAX_VALUE, "> 0"), a.number("decay_rate", d.decayRate(), -Double.MAX_VALUE, -Double.MIN_VALUE, "< 0"),
                a.numberOrNone("beta1", d.beta1(), 0, Math.nextDown(1.0), "in [0, 1)"),
                a.number("weight_decay", d.weightDecay(), 0, Double.MAX_VALUE, "≥ 0"), a.bool("scale_parameter",
                d.scaleParameter()), a.bool("relative_step", d.relativeStep()) || warmupInit, warmupInit);
    }

    /**
     * prodigyopt 1.1.2's {@code --optimizer_args} over its defaults ({@link Prodigy.Settings#defaults}): betas=(b1,b2),
     * beta3 (a number or None), eps, weight_decay, d0, d_coef, growth_rate (a number or inf), slice_p, and decouple,
     * use_bias_correction, safeguard_warmup (True or False); fsdp_in_use=False is accepted (one process).
     */
    public static Prodigy.Settings prodigySettings(List<String> items) {
        Prodigy.Settings d = Prodigy.Settings.defaults();
        OptimizerArgs a = OptimizerArgs.parse(items, "Prodigy", List.of("betas", "beta3", "eps", "weight_decay", "decouple",
                "use_bias_correction", "safeguard_warmup", "d0", "d_coef", "growth_rate", "slice_p", "fsdp_in_use"));
        if (a.bool("fsdp_in_use", false)) {
            throw a.fail("fsdp_in_use", "one process trains here; FSDP does not apply");
        }
        double[] betas = a.pair("betas", d.beta1(), d.beta2(), 0, Math.nextDown(1.0), "in [0, 1)");
        String growth = a.raw("growth_rate");
        boolean infinite = growth != null && List.of("inf", "float('inf')", "float(\"inf\")").contains(growth);
        return new Prodigy.Settings(betas[0], betas[1], a.numberOrNone("beta3", d.beta3(), 0, Math.nextDown(1.0), "in [0, 1)"),
                a.number("eps", d.eps(), Double.MIN_VALUE, Double.MAX_VALUE, "> 0"),
                a.number("weight_decay", d.weightDecay(), 0, Double.MAX_VALUE, "≥ 0"), a.bool("decouple", d.decouple()),
                a.bool("use_bias_correction", d.biasCorrection()), a.bool("safeguard_warmup", d.safeguardWarmup()),
                a.number("d0", d.d0(), Double.MIN_VALUE, Double.MAX_VALUE, "> 0"),
                a.number("d_coef", d.dCoef(), Double.MIN_VALUE, Double.MAX_VALUE, "> 0"),
                infinite ? Double.POSITIVE_INFINITY : a.number("growth_rate", d.growthRate(), 1, Double.MAX_VALUE, "≥ 1 or inf"),
                (int) Math.min(Integer.MAX_VALUE, a.integer("slice_p", d.sliceP(), 1)));
    }

    /**
     * schedulefree 1.4.1's {@code --optimizer_args} over its defaults ({@link ScheduleFreeAdamW.Settings#defaults}):
     * betas=(b1,b2), eps, weight_decay, warmup_steps, r, weight_lr_power, inner_momentum; foreach (True or False) only
     * chooses upstream's loop and is accepted.
     */
    public static ScheduleFreeAdamW.Settings scheduleFreeSettings(List<String> items) {
        ScheduleFreeAdamW.Settings d = ScheduleFreeAdamW.Settings.defaults();
        OptimizerArgs a = OptimizerArgs.parse(items, "AdamWScheduleFree", List.of("betas", "eps", "weight_decay",
                "warmup_steps", "r", "weight_lr_power", "inner_momentum", "foreach"));
        a.bool("foreach", true);
        double[] betas = a.pair("betas", d.beta1(), d.beta2(), 0, Math.nextDown(1.0), "in [0, 1)");
        if (betas[0] == 0) {
            throw a.fail("betas", "AdamWScheduleFree needs beta1 > 0 (x is recovered from y with 1/beta1)");
        }
        return new ScheduleFreeAdamW.Settings(betas[0], betas[1], a.number("eps", d.eps(), 0, Double.MAX_VALUE, "≥ 0"),
                a.number("weight_decay", d.weightDecay(), 0, Double.MAX_VALUE, "≥ 0"),
                a.integer("warmup_steps", d.warmupSteps(), 0), a.number("r", d.r(), 0, Double.MAX_VALUE, "≥ 0"),
                a.number("weight_lr_power", d.weightLrPower(), 0, Double.MAX_VALUE, "≥ 0"),
                a.number("inner_momentum", d.innerMomentum(), 0, Math.nextDown(1.0), "in [0, 1)"));
    }

    /** The run's optimizer over {@code params}, with a LoRA+ group when {@code loraPlusRatio} is given. */
    public static Optimizer of(Map<String, Parameter> params, OptimizerConfig c, Double loraPlusRatio) {
        if (c.kind() == OptimizerConfig.Kind.LION) {
            LionArgs a = LionArgs.parse(c.args());
            return new Lion(groups(params, c, loraPlusRatio, a.weightDecay()), a.beta1(), a.beta2(), a.decoupled());
        }
        if (c.kind() == OptimizerConfig.Kind.SCHEDULE_FREE) {
            ScheduleFreeAdamW.Settings settings = scheduleFreeSettings(c.args());
            return new ScheduleFreeAdamW(groups(params, c, loraPlusRatio, settings.weightDecay()), settings);
        }
        if (c.kind() == OptimizerConfig.Kind.PRODIGY) {
            if (loraPlusRatio != null) {
                throw new ParameterException(named(param("NetworkConfig.args"), " loraplus_lr_ratio puts lora_up at another "
                        + "rate, which Prodigy refuses (its groups share one rate)"));
            }
            Prodigy.Settings settings = prodigySettings(c.args());
            return new Prodigy(groups(params, c, null, settings.weightDecay()), settings);
        }
        if (c.kind() == OptimizerConfig.Kind.ADAFACTOR) {
            Adafactor.Settings settings = adafactorSettings(c.args());
            return new Adafactor(groups(params, c, loraPlusRatio, settings.weightDecay()), settings);
        }
        AdamWArgs a = AdamWArgs.parse(c.args());
        List<ParamGroup> groups = groups(params, c, loraPlusRatio, a.weightDecay());
        return c.eightBit() ? AdamW.eightBit(groups, a.beta1(), a.beta2(), a.eps())
                : new AdamW(groups, a.beta1(), a.beta2(), a.eps());
    }

    /**
     * What the run's log says about its optimizer beyond its name: AdamW8bit's state size, and Adafactor's rate rules
     * with upstream's advice (§3.1: with relative steps --learning_rate is only the schedule's initial rate; without them
     * upstream suggests no gradient clipping, constant_with_warmup and clip_threshold 1).
     */
    static void describe(Optimizer optimizer, OptimizerConfig c, Collection<Parameter> params, Reporter listener) {
        if (optimizer instanceof AdamW a && c.eightBit()) {
            long fp32 = 8 * params.stream().mapToLong(p -> p.shape().numel()).sum();
            listener.info(String.format(Locale.ROOT, "AdamW8bit: %.1f MiB of optimizer state (fp32 moments: %.1f MiB)%s",
                    a.stateBytes() / 1048576.0, fp32 / 1048576.0, c.kind() == OptimizerConfig.Kind.PAGED_ADAMW_8BIT
                    ? "; PagedAdamW8bit's step, its state in device memory (not CUDA unified memory)" : ""));
        }
        if (optimizer instanceof ScheduleFreeAdamW && (!c.scheduler().equals("constant") || !c.warmupSteps().equals("0"))) {
            listener.warn(named("AdamWScheduleFree runs without a schedule: ", param("OptimizerConfig.scheduler"), " "
                    + c.scheduler() + " and ", param("OptimizerConfig.warmupSteps"), " " + c.warmupSteps() + " are ignored, as "
                    + "upstream; warm up with ", param("OptimizerConfig.args"), " warmup_steps=N"));
        }
        if (c.schedulerType() != null && (!c.scheduler().equals("constant") || !c.warmupSteps().equals("0"))) {
            listener.warn(named(param("OptimizerConfig.schedulerType"), " " + c.schedulerType() + " replaces ",
                    param("OptimizerConfig.scheduler"), " " + c.scheduler() + " and ", param("OptimizerConfig.warmupSteps"), " "
                    + c.warmupSteps() + ", as upstream (only its own arguments reach it)"));
        }
        if (optimizer instanceof Prodigy && c.learningRate() < 0.1) {
            listener.warn(named("Prodigy: ", param("OptimizerConfig.learningRate"), " " + c.learningRate() + " multiplies the "
                    + "step size Prodigy estimates itself; prodigyopt's advice is 1.0 (lower it only for instability)"));
        }
        if (optimizer instanceof Adafactor a) {
            Adafactor.Settings s = a.settings();
            if (s.relativeStep()) {
                listener.info(named("Adafactor with relative steps: each parameter's rate is min(" + (s.warmupInit() ? "1e-6·t" : "1e-2")
                        + ", 1/√t)" + (s.scaleParameter() ? " · max(" + s.eps2() + ", RMS(p))" : "") + "; ",
                        param("OptimizerConfig.learningRate"), " " + c.learningRate() + " is only the reported initial rate and ",
                        param("OptimizerConfig.scheduler"), " is replaced by " + c.schedulerName()));
            } else {
                if (c.maxGradNorm() != 0) {
                    listener.warn(named("Adafactor: ", param("OptimizerConfig.maxGradNorm"), " " + c.maxGradNorm()
                            + " clips gradients too; upstream suggests 0"));
                }
                if (!c.scheduler().equals("constant_with_warmup")) {
                    listener.warn(named("Adafactor: upstream suggests ", param("OptimizerConfig.scheduler"), " constant_with_warmup"));
                }
                if (s.clipThreshold() != 1.0) {
                    listener.warn("Adafactor: upstream suggests clip_threshold=1.0");
                }
            }
        }
    }

    private static List<ParamGroup> groups(Map<String, Parameter> params, OptimizerConfig c, Double loraPlusRatio,
            double weightDecay) {
        List<ParamGroup> groups = new ArrayList<>();
        if (loraPlusRatio == null) {
            groups.add(new ParamGroup("unet", params, c.learningRate(), weightDecay));
        } else {
            Map<String, Parameter> down = new LinkedHashMap<>();
            Map<String, Parameter> up = new LinkedHashMap<>();
            params.forEach((n, p) -> (n.contains("lora_up") ? up : down).put(n, p));
            groups.add(new ParamGroup("unet", down, c.learningRate(), weightDecay));
            groups.add(new ParamGroup("unet plus", up, c.learningRate() * loraPlusRatio, weightDecay));
        }
        return groups;
    }
}
