package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.core.Reporter;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.optim.Adafactor;
import dev.loraid.autograd.optim.AdamW;
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
 * {@code eps=…}), or transformers' {@link Adafactor} with its own; with {@code loraplus_lr_ratio} the lora_up weights
 * form a second group at lr·ratio (LoRA+; Adafactor's relative steps ignore group rates, as upstream).
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
            double weightDecay = 0.01;
            double beta1 = 0.9;
            double beta2 = 0.999;
            double eps = 1e-8;
            for (String item : items) {
                String[] kv = keyValue(item);
                String k = kv[0];
                String v = kv[1];
                switch (k) {
                    case "weight_decay" -> weightDecay = number(item, v, 0, Double.MAX_VALUE, "≥ 0");
                    case "eps" -> eps = number(item, v, Double.MIN_VALUE, Double.MAX_VALUE, "> 0");
                    case "betas" -> {
                        double[] betas = pair(item, v, 0, Math.nextDown(1.0), "in [0, 1)");
                        beta1 = betas[0];
                        beta2 = betas[1];
                    }
                    default -> throw new ParameterException(named(param("OptimizerConfig.args"),
                            ": AdamW takes weight_decay, betas and eps, not '" + k + "'"));
                }
            }
            return new AdamWArgs(weightDecay, beta1, beta2, eps);
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
        double eps1 = d.eps1();
        double eps2 = d.eps2();
        double clip = d.clipThreshold();
        double decayRate = d.decayRate();
        Double beta1 = d.beta1();
        double weightDecay = d.weightDecay();
        boolean scale = d.scaleParameter();
        boolean relative = d.relativeStep();
        boolean warmupInit = d.warmupInit();
        for (String item : items) {
            String[] kv = keyValue(item);
            String v = kv[1];
            switch (kv[0]) {
                case "eps" -> {
                    double[] pair = pair(item, v, 0, Double.MAX_VALUE, "≥ 0");
                    eps1 = pair[0];
                    eps2 = pair[1];
                }
                case "clip_threshold" -> clip = number(item, v, Double.MIN_VALUE, Double.MAX_VALUE, "> 0");
                case "decay_rate" -> decayRate = number(item, v, -Double.MAX_VALUE, -Double.MIN_VALUE, "< 0");
                case "beta1" -> beta1 = v.equals("None") ? null : number(item, v, 0, Math.nextDown(1.0), "in [0, 1) or None");
                case "weight_decay" -> weightDecay = number(item, v, 0, Double.MAX_VALUE, "≥ 0");
                case "scale_parameter" -> scale = bool(item, v);
                case "relative_step" -> relative = bool(item, v);
                case "warmup_init" -> warmupInit = bool(item, v);
                case "lr" -> throw new ParameterException(named(param("OptimizerConfig.args"), " " + item
                        + ": Adafactor's rate is --learning_rate (with relative_step=False), not an optimizer argument"));
                default -> throw new ParameterException(named(param("OptimizerConfig.args"), ": Adafactor takes eps, "
                        + "clip_threshold, decay_rate, beta1, weight_decay, scale_parameter, relative_step and warmup_init, not '"
                        + kv[0] + "'"));
            }
        }
        return new Adafactor.Settings(eps1, eps2, clip, decayRate, beta1, weightDecay, scale, relative || warmupInit,
                warmupInit);
    }

    /**
     * prodigyopt 1.1.2's {@code --optimizer_args} over its defaults ({@link Prodigy.Settings#defaults}): betas=(b1,b2),
     * beta3 (a number or None), eps, weight_decay, d0, d_coef, growth_rate (a number or inf), slice_p, and decouple,
     * use_bias_correction, safeguard_warmup (True or False); fsdp_in_use=False is accepted (one process).
     */
    public static Prodigy.Settings prodigySettings(List<String> items) {
        Prodigy.Settings d = Prodigy.Settings.defaults();
        double beta1 = d.beta1();
        double beta2 = d.beta2();
        Double beta3 = d.beta3();
        double eps = d.eps();
        double weightDecay = d.weightDecay();
        boolean decouple = d.decouple();
        boolean biasCorrection = d.biasCorrection();
        boolean safeguard = d.safeguardWarmup();
        double d0 = d.d0();
        double dCoef = d.dCoef();
        double growth = d.growthRate();
        int sliceP = d.sliceP();
        for (String item : items) {
            String[] kv = keyValue(item);
            String v = kv[1];
            switch (kv[0]) {
                case "betas" -> {
                    double[] betas = pair(item, v, 0, Math.nextDown(1.0), "in [0, 1)");
                    beta1 = betas[0];
                    beta2 = betas[1];
                }
                case "beta3" -> beta3 = v.equals("None") ? null : number(item, v, 0, Math.nextDown(1.0), "in [0, 1) or None");
                case "eps" -> eps = number(item, v, Double.MIN_VALUE, Double.MAX_VALUE, "> 0");
                case "weight_decay" -> weightDecay = number(item, v, 0, Double.MAX_VALUE, "≥ 0");
                case "decouple" -> decouple = bool(item, v);
                case "use_bias_correction" -> biasCorrection = bool(item, v);
                case "safeguard_warmup" -> safeguard = bool(item, v);
                case "d0" -> d0 = number(item, v, Double.MIN_VALUE, Double.MAX_VALUE, "> 0");
                case "d_coef" -> dCoef = number(item, v, Double.MIN_VALUE, Double.MAX_VALUE, "> 0");
                case "growth_rate" -> growth = v.equals("inf") || v.equals("float('inf')") || v.equals("float(\"inf\")")
                        ? Double.POSITIVE_INFINITY : number(item, v, 1, Double.MAX_VALUE, "≥ 1 or inf");
                case "slice_p" -> sliceP = (int) integer(item, v, 1);
                case "fsdp_in_use" -> {
                    if (bool(item, v)) {
                        throw new ParameterException(named(param("OptimizerConfig.args"), " " + item
                                + ": one process trains here; FSDP does not apply"));
                    }
                }
                default -> throw new ParameterException(named(param("OptimizerConfig.args"), ": Prodigy takes betas, beta3, "
                        + "eps, weight_decay, decouple, use_bias_correction, safeguard_warmup, d0, d_coef, growth_rate and "
                        + "slice_p, not '" + kv[0] + "'"));
            }
        }
        return new Prodigy.Settings(beta1, beta2, beta3, eps, weightDecay, decouple, biasCorrection, safeguard, d0, dCoef,
                growth, sliceP);
    }

    /**
     * schedulefree 1.4.1's {@code --optimizer_args} over its defaults ({@link ScheduleFreeAdamW.Settings#defaults}):
     * betas=(b1,b2), eps, weight_decay, warmup_steps, r, weight_lr_power, inner_momentum; foreach (True or False) only
     * chooses upstream's loop and is accepted.
     */
    public static ScheduleFreeAdamW.Settings scheduleFreeSettings(List<String> items) {
        ScheduleFreeAdamW.Settings d = ScheduleFreeAdamW.Settings.defaults();
        double beta1 = d.beta1();
        double beta2 = d.beta2();
        double eps = d.eps();
        double weightDecay = d.weightDecay();
        long warmup = d.warmupSteps();
        double r = d.r();
        double power = d.weightLrPower();
        double inner = d.innerMomentum();
        for (String item : items) {
            String[] kv = keyValue(item);
            String v = kv[1];
            switch (kv[0]) {
                case "betas" -> {
                    double[] betas = pair(item, v, 0, Math.nextDown(1.0), "in [0, 1)");
                    beta1 = betas[0];
                    beta2 = betas[1];
                }
                case "eps" -> eps = number(item, v, 0, Double.MAX_VALUE, "≥ 0");
                case "weight_decay" -> weightDecay = number(item, v, 0, Double.MAX_VALUE, "≥ 0");
                case "warmup_steps" -> warmup = (long) integer(item, v, 0);
                case "r" -> r = number(item, v, 0, Double.MAX_VALUE, "≥ 0");
                case "weight_lr_power" -> power = number(item, v, 0, Double.MAX_VALUE, "≥ 0");
                case "inner_momentum" -> inner = number(item, v, 0, Math.nextDown(1.0), "in [0, 1)");
                case "foreach" -> bool(item, v);
                default -> throw new ParameterException(named(param("OptimizerConfig.args"), ": AdamWScheduleFree takes betas, "
                        + "eps, weight_decay, warmup_steps, r, weight_lr_power, inner_momentum and foreach, not '" + kv[0] + "'"));
            }
        }
        if (beta1 == 0) {
            throw new ParameterException(named(param("OptimizerConfig.args"), " betas: AdamWScheduleFree needs beta1 > 0 (x is "
                    + "recovered from y with 1/beta1)"));
        }
        return new ScheduleFreeAdamW.Settings(beta1, beta2, eps, weightDecay, warmup, r, power, inner);
    }

    /** The run's optimizer over {@code params}, with a LoRA+ group when {@code loraPlusRatio} is given. */
    public static Optimizer of(Map<String, Parameter> params, OptimizerConfig c, Double loraPlusRatio) {
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
            listener.info(String.format(Locale.ROOT, "AdamW8bit: %.1f MiB of optimizer state (fp32 moments: %.1f MiB)",
                    a.stateBytes() / 1048576.0, fp32 / 1048576.0));
        }
        if (optimizer instanceof ScheduleFreeAdamW && (!c.scheduler().equals("constant") || !c.warmupSteps().equals("0"))) {
            listener.warn("AdamWScheduleFree runs without a schedule: --lr_scheduler " + c.scheduler() + " and --lr_warmup_steps "
                    + c.warmupSteps() + " are ignored, as upstream; warm up with --optimizer_args warmup_steps=N");
        }
        if (optimizer instanceof Prodigy && c.learningRate() < 0.1) {
            listener.warn("Prodigy: --learning_rate " + c.learningRate() + " multiplies the step size Prodigy estimates "
                    + "itself; prodigyopt's advice is 1.0 (lower it only for instability)");
        }
        if (optimizer instanceof Adafactor a) {
            Adafactor.Settings s = a.settings();
            if (s.relativeStep()) {
                listener.info("Adafactor with relative steps: each parameter's rate is min(" + (s.warmupInit() ? "1e-6·t" : "1e-2")
                        + ", 1/√t)" + (s.scaleParameter() ? " · max(" + s.eps2() + ", RMS(p))" : "") + "; --learning_rate "
                        + c.learningRate() + " is only the reported initial rate and --lr_scheduler is replaced by "
                        + c.schedulerName());
            } else {
                if (c.maxGradNorm() != 0) {
                    listener.warn("Adafactor: --max_grad_norm " + c.maxGradNorm() + " clips gradients too; upstream "
                            + "suggests --max_grad_norm 0");
                }
                if (!c.scheduler().equals("constant_with_warmup")) {
                    listener.warn("Adafactor: upstream suggests --lr_scheduler constant_with_warmup");
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

    /** {@code key=value} split at the first '=' and stripped. */
    private static String[] keyValue(String item) {
        int eq = item.indexOf('=');
        if (eq < 0) {
            throw new ParameterException(named(param("OptimizerConfig.args"), " item '" + item + "' must be key=value"));
        }
        return new String[] {item.substring(0, eq).strip(), item.substring(eq + 1).strip()};
    }

    /** A Python tuple or list of two numbers, "(a, b)". */
    private static double[] pair(String item, String v, double min, double max, String range) {
        String[] parts = v.replaceAll("[()\\[\\]\\s]", "").split(",");
        if (parts.length != 2) {
            throw new ParameterException(named(param("OptimizerConfig.args"), " " + item + ": expected a pair (a, b), got " + v));
        }
        return new double[] {number(item, parts[0], min, max, range), number(item, parts[1], min, max, range)};
    }

    /** A whole number ≥ {@code min} (a Python int literal). */
    private static double integer(String item, String v, long min) {
        double d = number(item, v, min, Long.MAX_VALUE, "an integer ≥ " + min);
        if (d != Math.rint(d)) {
            throw new ParameterException(named(param("OptimizerConfig.args"), " " + item + ": must be an integer ≥ " + min));
        }
        return d;
    }

    /** A Python bool literal, True or False. */
    private static boolean bool(String item, String v) {
        return switch (v) {
            case "True" -> true;
            case "False" -> false;
            default -> throw new ParameterException(named(param("OptimizerConfig.args"), " " + item
                    + ": expected True or False (Python literals), got '" + v + "'"));
        };
    }

    private static double number(String item, String v, double min, double max, String range) {
        double d;
        try {
            d = Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new ParameterException(named(param("OptimizerConfig.args"), " " + item + ": expected a number, got '" + v
                    + "'"));
        }
        if (!(d >= min && d <= max)) {
            throw new ParameterException(named(param("OptimizerConfig.args"), " " + item + ": must be " + range + ", got "
                    + v.strip()));
        }
        return d;
    }
}
