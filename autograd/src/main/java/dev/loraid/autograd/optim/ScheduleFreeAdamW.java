package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * schedulefree 1.4.1's {@code AdamWScheduleFree} ({@code --optimizer_type schedulefree.AdamWScheduleFree}, spec
 * training.md §3.1): no schedule; the parameters hold y while training ({@link #train}) and the average x for saving and
 * sampling ({@link #eval}), z is kept as state. Per group and step (k updates so far):
 * <pre>
 *   lr_k = lr · min(1, (k+1)/warmup_steps);  lr_max = max(lr_max, lr_k);  w = (k+1)^r · lr_max^weight_lr_power
 *   c = w / Σw;  v ← β2·v + (1−β2)·g²;  n = g / (√(v / (1 − β2^(k+1))) + eps)     (inner momentum: m / (1 − μ^(k+1)) / …)
 *   n += decay·y;  y ← y + c·(z − y) + lr_k·(β1(1−c) − 1)·n;  z ← z − lr_k·n
 * </pre>
 * {@link #eval} sets y ← y + (1 − 1/β1)(z − y) (= x), {@link #train} x ← x + (1 − β1)(z − x) (= y again, to fp32
 * rounding, as upstream). State: per parameter {@code z}, {@code exp_avg_sq}, {@code exp_avg} (inner momentum); per group
 * {@code schedulefree.<group>.k}, {@code .lr_max}, {@code .weight_sum}; and whether the parameters hold y
 * ({@code schedulefree.train_mode}).
 */
public final class ScheduleFreeAdamW extends Optimizer {
    private static final String PREFIX = "schedulefree.";
    private static final String TRAIN_MODE = PREFIX + "train_mode";

    private final Settings settings;
    private final Map<String, State> state = new HashMap<>();
    private final Map<String, GroupState> groupState = new LinkedHashMap<>();
    private boolean trainMode;
    private double lastLr;

    /**
     * schedulefree's arguments, defaults in {@link #defaults()}.
     *
     * @param beta1          the interpolation's β1 (0.9)
     * @param beta2          the second moment's decay (0.999)
     * @param eps            1e-8
     * @param weightDecay    0, taken at y
     * @param warmupSteps    a linear warmup of the rate over this many steps (0)
     * @param r              polynomial weighting of the average (0)
     * @param weightLrPower  the average's weights are lr_max to this power (2)
     * @param innerMomentum  an EMA of the gradient inside the Adam step (0: none)
     */
    public record Settings(double beta1, double beta2, double eps, double weightDecay, long warmupSteps, double r,
            double weightLrPower, double innerMomentum) {
        public Settings {
            if (!(beta1 > 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0) || !(weightDecay >= 0) || warmupSteps < 0
                    || !(innerMomentum >= 0 && innerMomentum < 1)) {
                throw new IllegalArgumentException("AdamWScheduleFree: beta1 must be in (0, 1), beta2 and inner_momentum in "
                    + "[0, 1), eps, weight_decay and warmup_steps ≥ 0; got betas (" + beta1 + ", " + beta2 + "), eps " + eps
                    + ", weight_decay " + weightDecay + ", warmup_steps " + warmupSteps + ", inner_momentum " + innerMomentum);
            }
        }

        /** schedulefree 1.4.1's defaults. */
        public static Settings defaults() {
            return new Settings(0.9, 0.999, 1e-8, 0.0, 0, 0.0, 2.0, 0.0);
        }
    }

    private static final class State {
        final Tensor z;
        final Tensor v;
        final Tensor m;

        State(Tensor z, Tensor v, Tensor m) {
            this.z = z;
            this.v = v;
            this.m = m;
        }
    }

    private static final class GroupState {
        long k;
        double lrMax = -1;
        double weightSum;
    }

    public ScheduleFreeAdamW(List<ParamGroup> groups, Settings settings) {
        super(groups);
        this.settings = settings;
        for (ParamGroup g : groups) {
            if (groupState.put(g.name(), new GroupState()) != null) {
                throw new IllegalArgumentException("AdamWScheduleFree: two parameter groups named " + g.name());
            }
        }
    }

    public Settings settings() {
        return settings;
    }

    /** Whether the parameters hold y (training) rather than x (evaluation and saving). */
    public boolean trainMode() {
        return trainMode;
    }

    @Override
    public void step() {
        if (!trainMode) {
            throw new IllegalStateException("AdamWScheduleFree steps in train mode: call train() before stepping (the "
                + "parameters hold x until then)");
        }
        double beta1 = settings.beta1();
        double beta2 = settings.beta2();
        double im = settings.innerMomentum();
        for (ParamGroup g : groups()) {
            GroupState gs = groupState.get(g.name());
            long k = gs.k;
            double sched = k < settings.warmupSteps() ? (k + 1) / (double) settings.warmupSteps() : 1.0;
            double bc2 = 1 - Math.pow(beta2, k + 1);
            double bc1 = 1 - Math.pow(im, k + 1);
            double lr = g.lr() * sched;
            gs.lrMax = Math.max(lr, gs.lrMax);
            double weight = Math.pow(k + 1, settings.r()) * Math.pow(gs.lrMax, settings.weightLrPower());
            gs.weightSum += weight;
            double ckp1 = gs.weightSum == 0 ? 0 : weight / gs.weightSum;
            for (var e : g.params().entrySet()) {
                Parameter p = e.getValue();
                if (!steps(e.getKey(), p)) {
                    continue;
                }
                State s = state.computeIfAbsent(e.getKey(), n -> fresh(p));
                Tensor y = p.data();
                Tensor grad = p.grad();
                Backend be = y.backend();
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor sq = Tensor.empty(y.device(), DType.F32, y.shape().toArray());
                    be.unary(UnaryOp.SQUARE, grad, sq);
                    be.addScaled(s.v, beta2, sq, 1 - beta2, s.v);
                    Tensor denom = sq; // reused: √(v / bc2) + eps
                    be.binaryScalar(BinaryOp.DIV, s.v, bc2, denom);
                    be.unary(UnaryOp.SQRT, denom, denom);
                    be.binaryScalar(BinaryOp.ADD, denom, settings.eps(), denom);
                    Tensor n = Tensor.empty(y.device(), DType.F32, y.shape().toArray());
                    if (s.m != null) {
                        be.addScaled(s.m, im, grad, 1 - im, s.m);
                        be.binaryScalar(BinaryOp.DIV, s.m, bc1, n);
                        be.binary(BinaryOp.DIV, n, denom, n);
                    } else {
                        be.binary(BinaryOp.DIV, grad, denom, n);
                    }
                    if (settings.weightDecay() != 0) {
                        be.addScaled(n, 1.0, y, settings.weightDecay(), n);
                    }
                    lerp(y, s.z, ckp1);
                    be.addScaled(y, 1.0, n, lr * (beta1 * (1 - ckp1) - 1), y);
                    be.addScaled(s.z, 1.0, n, -lr, s.z);
                }
            }
            gs.k = k + 1;
            if (g == groups().getFirst()) {
                lastLr = lr;
            }
        }
    }

    /**
     * {@code a ← a + w·(b − a)} as torch's lerp_ computes it: from a for w &lt; 0.5, else {@code b − (1 − w)·(b − a)}, so
     * that w = 1 gives b exactly.
     */
    private static void lerp(Tensor a, Tensor b, double w) {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor diff = Tensor.empty(a.device(), DType.F32, a.shape().toArray());
            a.backend().binary(BinaryOp.SUB, b, a, diff);
            if (w < 0.5) {
                a.backend().addScaled(a, 1.0, diff, w, a);
            } else {
                a.backend().addScaled(b, 1.0, diff, -(1 - w), a);
            }
        }
    }

    /** The parameters go to x, the point to evaluate, sample and save (upstream's {@code eval()}); idempotent. */
    @Override
    public void eval() {
        if (trainMode) {
            state.forEach((n, s) -> lerp(param(n).data(), s.z, 1 - 1 / settings.beta1()));
            trainMode = false;
        }
    }

    /** The parameters go back to y, the point gradients are taken at (upstream's {@code train()}); idempotent. */
    @Override
    public void train() {
        if (!trainMode) {
            state.forEach((n, s) -> lerp(param(n).data(), s.z, 1 - settings.beta1()));
            trainMode = true;
        }
    }

    private Parameter param(String name) {
        for (ParamGroup g : groups()) {
            Parameter p = g.params().get(name);
            if (p != null) {
                return p;
            }
        }
        throw new IllegalArgumentException(name);
    }

    /** The rate of the last step, warmup included, of the first group (upstream logs the unscaled group rate). */
    @Override
    public double appliedLr(int group) {
        return groupState.get(groups().getFirst().name()).k == 0 ? groups().get(group).lr() : lastLr;
    }

    private State fresh(Parameter p) {
        Tensor y = p.data();
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor z = Tensor.empty(y.device(), DType.F32, y.shape().toArray());
            y.backend().copy(y, z);
            Tensor m = settings.innerMomentum() != 0 ? Tensor.zeros(y.device(), DType.F32, y.shape().toArray()) : null;
            return new State(z, Tensor.zeros(y.device(), DType.F32, y.shape().toArray()), m);
        }
    }

    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : allParams()) {
            State s = state.get(e.getKey());
            if (s != null) {
                out.put(e.getKey() + ".z", s.z);
                out.put(e.getKey() + ".exp_avg_sq", s.v);
                if (s.m != null) {
                    out.put(e.getKey() + ".exp_avg", s.m);
                }
            }
        }
        try (MemoryScope outside = MemoryScope.suspend()) {
            groupState.forEach((name, gs) -> {
                out.put(PREFIX + name + ".k", count(gs.k));
                out.put(PREFIX + name + ".lr_max", Tensor.ofDoubles(new double[] {gs.lrMax}, new long[0]));
                out.put(PREFIX + name + ".weight_sum", Tensor.ofDoubles(new double[] {gs.weightSum}, new long[0]));
            });
            out.put(TRAIN_MODE, count(trainMode ? 1 : 0));
        }
        return out;
    }

    /**
     * Restores z and the moments of every parameter saved with them, the groups' counters and the mode the saved
     * parameters are in (restore the parameters with it: they hold x when saved in eval mode).
     */
    @Override
    public void loadStateDict(StateSource source) {
        List<String> problems = new ArrayList<>();
        Shape scalar = Shape.of(new long[0]);
        Map<String, State> loaded = new HashMap<>();
        for (var e : allParams()) {
            String n = e.getKey();
            if (!source.keys().contains(n + ".z")) {
                continue;
            }
            Shape shape = e.getValue().shape();
            Tensor z = slot(source, n + ".z", shape, problems);
            Tensor v = slot(source, n + ".exp_avg_sq", shape, problems);
            Tensor m = settings.innerMomentum() != 0 ? slot(source, n + ".exp_avg", shape, problems) : null;
            if (z != null && v != null && (settings.innerMomentum() == 0 || m != null)) {
                State s = fresh(e.getValue());
                s.z.backend().copy(z, s.z);
                s.v.backend().copy(v, s.v);
                if (m != null) {
                    s.m.backend().copy(m, s.m);
                }
                loaded.put(n, s);
            }
        }
        Map<String, Tensor[]> groups = new LinkedHashMap<>();
        for (String name : groupState.keySet()) {
            groups.put(name, new Tensor[] {slot(source, PREFIX + name + ".k", scalar, problems),
                slot(source, PREFIX + name + ".lr_max", scalar, problems),
                slot(source, PREFIX + name + ".weight_sum", scalar, problems)});
        }
        Tensor mode = slot(source, TRAIN_MODE, scalar, problems);
        failIfAny(problems, "AdamWScheduleFree");
        state.clear();
        state.putAll(loaded);
        groups.forEach((name, t) -> {
            GroupState gs = groupState.get(name);
            gs.k = t[0].getLong();
            gs.lrMax = t[1].getDouble();
            gs.weightSum = t[2].getDouble();
        });
        trainMode = mode.getLong() != 0;
    }
}
