package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.optim.AdamW;
import dev.loraid.autograd.optim.ParamGroup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The optimizer of a run (training.md §2.5, §3.1): AdamW (or bitsandbytes' AdamW8bit: {@link AdamW#eightBit}) with
 * torch's defaults unless {@code --optimizer_args} says otherwise ({@code weight_decay=…}, {@code betas=(b1,b2)},
 * {@code eps=…}); with {@code loraplus_lr_ratio} the lora_up weights form a second group at lr·ratio (LoRA+).
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
                int eq = item.indexOf('=');
                if (eq < 0) {
                    throw new ParameterException(named(param("OptimizerConfig.args"), " item '" + item + "' must be key=value"));
                }
                String k = item.substring(0, eq).strip();
                String v = item.substring(eq + 1).strip();
                switch (k) {
                    case "weight_decay" -> weightDecay = number(item, v, 0, Double.MAX_VALUE, "≥ 0");
                    case "eps" -> eps = number(item, v, Double.MIN_VALUE, Double.MAX_VALUE, "> 0");
                    case "betas" -> {
                        String inner = v.replaceAll("[()\\[\\]\\s]", "");
                        String[] parts = inner.split(",");
                        if (parts.length != 2) {
                            throw new ParameterException(named(param("OptimizerConfig.args"), " betas: expected (b1, b2), got " + v));
                        }
                        beta1 = number(item, parts[0], 0, Math.nextDown(1.0), "in [0, 1)");
                        beta2 = number(item, parts[1], 0, Math.nextDown(1.0), "in [0, 1)");
                    }
                    default -> throw new ParameterException(named(param("OptimizerConfig.args"),
                            ": AdamW takes weight_decay, betas and eps, not '" + k + "'"));
                }
            }
            return new AdamWArgs(weightDecay, beta1, beta2, eps);
        }
    }

    public static AdamW adamW(Map<String, Parameter> params, OptimizerConfig c, Double loraPlusRatio) {
        AdamWArgs a = AdamWArgs.parse(c.args());
        double weightDecay = a.weightDecay();
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
        return c.eightBit() ? AdamW.eightBit(groups, a.beta1(), a.beta2(), a.eps())
                : new AdamW(groups, a.beta1(), a.beta2(), a.eps());
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
