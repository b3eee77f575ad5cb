package dev.loraid.autograd.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --lr_scheduler_type}: the classes of {@code torch.optim.lr_scheduler} a training run can name, with their
 * keyword arguments from {@code --lr_scheduler_args} (spec training.md §3.2: the class is built with those arguments
 * alone, so --lr_scheduler, its warmup and step counts do not apply). Each is its closed form at scheduler step e (the
 * chainable forms PyTorch steps reach the same rates when nothing else changes them): StepLR, MultiStepLR, ConstantLR,
 * LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR and CosineAnnealingWarmRestarts. Classes that need a
 * callable, a metric, other schedulers or that cycle the momentum are refused, naming why.
 */
public final class TorchSchedulers {
    private static final String PREFIX = "torch.optim.lr_scheduler.";
    private static final Set<String> NOT_HERE = Set.of("LambdaLR", "MultiplicativeLR", "ReduceLROnPlateau", "SequentialLR",
        "ChainedScheduler", "OneCycleLR", "CyclicLR");

    private TorchSchedulers() {
    }

    /**
     * The schedule of class {@code type} ({@code StepLR} or {@code torch.optim.lr_scheduler.StepLR}) built with {@code args}
     * ({@code key=value}, Python literals).
     *
     * @throws IllegalArgumentException naming the class, the argument or the value at fault
     */
    public static LrSchedule of(String type, List<String> args) {
        String name = type.startsWith(PREFIX) ? type.substring(PREFIX.length()) : type;
        if (name.contains(".")) {
            throw new IllegalArgumentException(type + ": only torch.optim.lr_scheduler classes are "
                + "available here");
        }
        if (NOT_HERE.contains(name)) {
            throw new IllegalArgumentException(name + " is not supported: it needs a callable, a "
                + "metric or other schedulers, or cycles the momentum; supported: StepLR, MultiStepLR, ConstantLR, LinearLR, "
                + "ExponentialLR, PolynomialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts");
        }
        Kwargs a = new Kwargs(name, args);
        LrSchedule s = switch (name) {
            case "StepLR" -> {
                long size = a.integer("step_size", null, 1);
                double gamma = a.number("gamma", 0.1);
                yield e -> Math.pow(gamma, Math.floorDiv(e, size));
            }
            case "MultiStepLR" -> {
                List<Long> milestones = a.integers("milestones");
                double gamma = a.number("gamma", 0.1);
                yield e -> Math.pow(gamma, milestones.stream().filter(m -> m <= e).count());
            }
            case "ConstantLR" -> {
                double factor = a.number("factor", 1.0 / 3);
                long total = a.integer("total_iters", 5L, 0);
                if (!(factor >= 0 && factor <= 1)) {
                    throw new IllegalArgumentException("--lr_scheduler_args factor must be in [0, 1], got " + factor);
                }
                yield e -> e < total ? factor : 1.0;
            }
            case "LinearLR" -> {
                double start = a.number("start_factor", 1.0 / 3);
                double end = a.number("end_factor", 1.0);
                long total = a.integer("total_iters", 5L, 1);
                if (!(start > 0 && start <= 1) || !(end >= 0 && end <= 1)) {
                    throw new IllegalArgumentException("--lr_scheduler_args start_factor must be in (0, 1] and end_factor in "
                        + "[0, 1], got " + start + ", " + end);
                }
                yield e -> start + (end - start) * Math.min(e, total) / total;
            }
            case "ExponentialLR" -> {
                double gamma = a.number("gamma", null);
                yield e -> Math.pow(gamma, e);
            }
            case "PolynomialLR" -> {
                long total = a.integer("total_iters", 5L, 1);
                double power = a.number("power", 1.0);
                yield e -> Math.pow(1.0 - (double) Math.min(e, total) / total, power);
            }
            case "CosineAnnealingLR" -> {
                long tMax = a.integer("T_max", null, 1);
                double etaMin = a.number("eta_min", 0.0);
                yield cosine(etaMin, e -> (double) e / tMax);
            }
            case "CosineAnnealingWarmRestarts" -> {
                long t0 = a.integer("T_0", null, 1);
                long mult = a.integer("T_mult", 1L, 1);
                double etaMin = a.number("eta_min", 0.0);
                yield cosine(etaMin, e -> restartPhase(e, t0, mult));
            }
            default -> throw new IllegalArgumentException(name + " is not a torch.optim.lr_scheduler class "
                + "(supported: StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR, "
                + "CosineAnnealingWarmRestarts)");
        };
        a.requireAllUsed();
        return s;
    }

    /** T_cur / T_i of CosineAnnealingWarmRestarts after e steps (its step() without an epoch argument). */
    static double restartPhase(long e, long t0, long mult) {
        if (mult == 1) {
            return (double) (e % t0) / t0;
        }
        long ti = t0;
        long cur = e;
        while (cur >= ti) {
            cur -= ti;
            ti *= mult;
        }
        return (double) cur / ti;
    }

    private interface Phase {
        double at(long step);
    }

    /** η_min + (base − η_min)·(1 + cos(π·phase))/2 per group: η_min is a rate, not a factor. */
    private static LrSchedule cosine(double etaMin, Phase phase) {
        return new LrSchedule() {
            @Override
            public double factor(long step) {
                return (1 + Math.cos(Math.PI * phase.at(step))) / 2;
            }

            @Override
            public double lr(long step, double baseLr) {
                return etaMin + (baseLr - etaMin) * factor(step);
            }
        };
    }

    /** The keyword arguments of one class, each read once. */
    private static final class Kwargs {
        private final String cls;
        private final Map<String, String> values = new LinkedHashMap<>();

        Kwargs(String cls, List<String> items) {
            this.cls = cls;
            for (String item : items) {
                int eq = item.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("--lr_scheduler_args item '" + item + "' must be key=value");
                }
                values.put(item.substring(0, eq).strip(), item.substring(eq + 1).strip());
            }
        }

        private String take(String key, boolean required) {
            String v = values.remove(key);
            if (v == null && required) {
                throw new IllegalArgumentException(cls + " needs --lr_scheduler_args " + key + "=...");
            }
            return v;
        }

        double number(String key, Double dflt) {
            String v = take(key, dflt == null);
            if (v == null) {
                return dflt;
            }
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--lr_scheduler_args " + key + "=" + v + ": expected a number", e);
            }
        }

        long integer(String key, Long dflt, long min) {
            String v = take(key, dflt == null);
            if (v == null) {
                return dflt;
            }
            return parseInteger(key, v, min);
        }

        List<Long> integers(String key) {
            String v = take(key, true);
            String inner = v.replaceAll("[\\[\\]()\\s]", "");
            List<Long> out = new ArrayList<>();
            for (String part : inner.split(",")) {
                if (!part.isEmpty()) {
                    out.add(parseInteger(key, part, 0));
                }
            }
            return out;
        }

        private static long parseInteger(String key, String v, long min) {
            long n;
            try {
                n = Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--lr_scheduler_args " + key + "=" + v + ": expected an integer", e);
            }
            if (n < min) {
                throw new IllegalArgumentException("--lr_scheduler_args " + key + "=" + v + ": must be ≥ " + min);
            }
            return n;
        }

        void requireAllUsed() {
            if (!values.isEmpty()) {
                throw new IllegalArgumentException(cls + " does not take " + String.join(", ",
                    values.keySet()) + " (upstream would fail on the unexpected keyword too)");
            }
        }
    }
}
