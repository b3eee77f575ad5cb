package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * prodigyopt's {@code Prodigy} 1.1.2 ({@code --optimizer_type prodigyopt.Prodigy}, spec training.md §3.1's dotted
 * path): Adam whose step size d is estimated as it goes. One step, with d, k (updates so far) and the decayed numerator
 * N carried from the last, lr the largest group rate, bc = √(1 − β2^(k+1)) / (1 − β1^(k+1)) with bias correction
 * (else 1) and dlr = d·lr·bc:
 * <pre>
 *   N ← β3·N + Σ (d/d0)·dlr·⟨g, p0 − p⟩           p0 = the parameter when first stepped (every slice_p-th element)
 *   m ← β1·m + d(1−β1)·g;  v ← β2·v + d²(1−β2)·g²
 *   s ← β3·s + (d/d0)·(safeguard_warmup ? d : dlr)·g
 *   d̂ = d_coef · N / Σ|s|;  d ← max(d, d̂) on the first estimate;  d_max ← max(d_max, d̂);  d ← min(d_max, d·growth)
 *   p ← p − decay·dlr·p (decoupled) − dlr · m / (√v + d·eps)      (β1 = 0: dlr·d·g in place of dlr·m)
 * </pre>
 * β3 defaults to √β2; coupled decay (decouple=False) adds decay·p to the gradient first. The two sums are accumulated
 * on the device and read back once a step. State: per parameter {@code s}, {@code p0} (a zero scalar for a parameter
 * that was all zero, as upstream, which saves a fresh lora_up's copy), {@code exp_avg} (β1 &gt; 0), {@code exp_avg_sq},
 * {@code step}; for the run {@code prodigy.d}, {@code prodigy.d_max}, {@code prodigy.d_numerator}, {@code prodigy.k}.
 */
public final class Prodigy extends Optimizer {
    /** The keys of the run-wide estimate in {@link #stateDict}. */
    private static final String D = "prodigy.d";
    private static final String D_MAX = "prodigy.d_max";
    private static final String NUMERATOR = "prodigy.d_numerator";
    private static final String K = "prodigy.k";

    private final Settings settings;
    private final Map<String, State> state = new HashMap<>();
    private double d;
    private double dMax;
    private double numerator;
    private long k;
    private double lastDlr;

    /**
     * prodigyopt's arguments, defaults in {@link #defaults()}.
     *
     * @param beta1             the first moment's decay (0.9; 0 keeps no first moment)
     * @param beta2             the second moment's decay (0.999)
     * @param beta3             the estimate's decay, or null for √beta2
     * @param eps               added to √v, times d (1e-8)
     * @param weightDecay       0
     * @param decouple          AdamW-style decay (true); false adds decay·p to the gradient
     * @param biasCorrection    Adam's bias correction in dlr (false)
     * @param safeguardWarmup   leave lr out of s's increment (false)
     * @param d0                the first estimate (1e-6)
     * @param dCoef             multiplies the estimate (1)
     * @param growthRate        the largest growth of d per step (∞)
     * @param sliceP            the estimate's statistics use every sliceP-th element (1)
     */
    public record Settings(double beta1, double beta2, Double beta3, double eps, double weightDecay, boolean decouple,
            boolean biasCorrection, boolean safeguardWarmup, double d0, double dCoef, double growthRate, int sliceP) {
        public Settings {
            if (!(d0 > 0) || !(eps > 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("Prodigy: d0 and eps must be > 0 and betas in [0, 1), got d0 " + d0
                    + ", eps " + eps + ", betas (" + beta1 + ", " + beta2 + ")");
            }
            if (beta3 != null && !(beta3 >= 0 && beta3 < 1) || !(weightDecay >= 0) || !(dCoef > 0) || !(growthRate >= 1)
                    || sliceP < 1) {
                throw new IllegalArgumentException("Prodigy: beta3 must be in [0, 1), weight_decay ≥ 0, d_coef > 0, "
                    + "growth_rate ≥ 1 and slice_p ≥ 1, got " + beta3 + ", " + weightDecay + ", " + dCoef + ", "
                    + growthRate + ", " + sliceP);
            }
        }

        /** prodigyopt 1.1.2's defaults. */
        public static Settings defaults() {
            return new Settings(0.9, 0.999, null, 1e-8, 0.0, true, false, false, 1e-6, 1.0, Double.POSITIVE_INFINITY, 1);
        }

        double beta3OrDefault() {
            return beta3 == null ? Math.sqrt(beta2) : beta3;
        }
    }

    /** One parameter's state: {@code p0} null when the parameter started all zero. */
    private static final class State {
        final Tensor s;
        final Tensor p0;
        final Tensor m;
        final Tensor v;
        /** The flat indices of every sliceP-th element, or null for sliceP 1. */
        final Tensor slice;
        long step;

        State(Tensor s, Tensor p0, Tensor m, Tensor v, Tensor slice) {
            this.s = s;
            this.p0 = p0;
            this.m = m;
            this.v = v;
            this.slice = slice;
        }
    }

    public Prodigy(List<ParamGroup> groups, Settings settings) {
        super(groups);
        this.settings = settings;
        this.d = settings.d0();
        this.dMax = settings.d0();
    }

    public Settings settings() {
        return settings;
    }

    /** The current step-size estimate d. */
    public double d() {
        return d;
    }

    @Override
    public void step() {
        double lr = 0;
        for (ParamGroup g : groups()) {
            lr = Math.max(lr, g.lr());
        }
        for (ParamGroup g : groups()) {
            if (g.lr() != lr && g.lr() != 0) {
                throw new IllegalStateException("Prodigy: parameter groups at different rates (" + g.name() + " at "
                    + g.lr() + ", another at " + lr + "); only 0 may differ (prodigyopt refuses them too)");
            }
        }
        double beta1 = settings.beta1();
        double beta2 = settings.beta2();
        double beta3 = settings.beta3OrDefault();
        double d0 = settings.d0();
        double bc = settings.biasCorrection() ? Math.sqrt(1 - Math.pow(beta2, k + 1)) / (1 - Math.pow(beta1, k + 1)) : 1;
        double dlr = d * lr * bc;
        List<Map.Entry<String, Parameter>> stepped = new ArrayList<>();
        double delta;
        double denom;
        try (MemoryScope scope = MemoryScope.open()) {
            Map<Device, Tensor[]> sums = new HashMap<>(); // per device: Σ⟨g, p0 − p⟩ and Σ|s|, in F64
            for (ParamGroup g : groups()) {
                for (var e : g.params().entrySet()) {
                    Parameter p = e.getValue();
                    if (!steps(e.getKey(), p)) {
                        continue;
                    }
                    Tensor w = p.data();
                    Backend be = w.backend();
                    Tensor grad = p.grad();
                    if (g.weightDecay() != 0 && !settings.decouple()) {
                        be.addScaled(grad, 1.0, w, g.weightDecay(), grad);
                    }
                    State s = state.computeIfAbsent(e.getKey(), n -> fresh(p));
                    if (g.lr() <= 0) {
                        continue;
                    }
                    stepped.add(e);
                    Tensor[] acc = sums.computeIfAbsent(w.device(), dev -> new Tensor[] {Tensor.zeros(dev, DType.F64, 1),
                        Tensor.zeros(dev, DType.F64, 1)});
                    Tensor gs = sliced(grad, s.slice);
                    Tensor ws = sliced(w, s.slice);
                    Tensor diff = Tensor.empty(w.device(), DType.F32, gs.shape().toArray());
                    if (s.p0 == null) {
                        be.binaryScalar(BinaryOp.MUL, ws, -1.0, diff);
                    } else {
                        be.binary(BinaryOp.SUB, s.p0, ws, diff);
                    }
                    be.binary(BinaryOp.MUL, gs, diff, diff);
                    addSum(diff, (d / d0) * dlr, acc[0]);
                    if (s.m != null) {
                        be.addScaled(s.m, beta1, grad, d * (1 - beta1), s.m);
                    }
                    Tensor sq = Tensor.empty(w.device(), DType.F32, w.shape().toArray());
                    be.unary(UnaryOp.SQUARE, grad, sq);
                    be.addScaled(s.v, beta2, sq, d * d * (1 - beta2), s.v);
                    be.addScaled(s.s, beta3, gs, (d / d0) * (settings.safeguardWarmup() ? d : dlr), s.s);
                    Tensor abs = Tensor.empty(w.device(), DType.F32, gs.shape().toArray());
                    be.unary(UnaryOp.ABS, s.s, abs);
                    addSum(abs, 1.0, acc[1]);
                }
            }
            delta = 0;
            denom = 0;
            for (Tensor[] acc : sums.values()) { // one read per device
                delta += acc[0].toDoubleArray()[0];
                denom += acc[1].toDoubleArray()[0];
            }
        }
        if (denom == 0) {
            return; // no progress to measure (all gradients zero): prodigyopt returns before stepping
        }
        numerator = beta3 * numerator + delta;
        if (lr > 0) {
            double dHat = settings.dCoef() * numerator / denom;
            if (d == d0) {
                d = Math.max(d, dHat);
            }
            dMax = Math.max(dMax, dHat);
            d = Math.min(dMax, d * settings.growthRate());
        }
        for (var e : stepped) {
            Parameter p = e.getValue();
            State s = state.get(e.getKey());
            double decay = groupOf(e.getKey()).weightDecay();
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor w = p.data();
                Backend be = w.backend();
                s.step++;
                Tensor den = Tensor.empty(w.device(), DType.F32, w.shape().toArray());
                be.unary(UnaryOp.SQRT, s.v, den);
                be.binaryScalar(BinaryOp.ADD, den, d * settings.eps(), den);
                if (decay != 0 && settings.decouple()) {
                    be.addScaled(w, 1.0, w, -decay * dlr, w);
                }
                Tensor ratio = Tensor.empty(w.device(), DType.F32, w.shape().toArray());
                be.binary(BinaryOp.DIV, s.m != null ? s.m : p.grad(), den, ratio);
                be.addScaled(w, 1.0, ratio, s.m != null ? -dlr : -dlr * d, w);
            }
        }
        k++;
        lastDlr = dlr;
    }

    /** {@code acc += scale · Σ x} (x F32, acc F64 [1]). */
    private static void addSum(Tensor x, double scale, Tensor acc) {
        Tensor sum = Tensor.empty(x.device(), DType.F32, 1, 1);
        x.backend().reduce(ReduceOp.SUM, x.reshape(1, x.shape().numel()), new int[] {0, 1}, sum);
        x.backend().addScaled(acc, 1.0, sum.reshape(1), scale, acc);
    }

    /** Every sliceP-th element of {@code t} flattened, as a [n] tensor ({@code t} itself, flattened, for sliceP 1). */
    private static Tensor sliced(Tensor t, Tensor slice) {
        Tensor flat = t.reshape(t.shape().numel());
        if (slice == null) {
            return flat;
        }
        Tensor out = Tensor.empty(t.device(), t.dtype(), slice.shape().numel(), 1);
        t.backend().gatherRows(flat.reshape(flat.shape().numel(), 1), slice, out);
        return out.reshape(slice.shape().numel());
    }

    private ParamGroup groupOf(String name) {
        for (ParamGroup g : groups()) {
            if (g.params().containsKey(name)) {
                return g;
            }
        }
        throw new IllegalArgumentException(name);
    }

    /**
     * The step size of the last update, d·lr·bc (dlr), which scales it as a rate scales Adam's: the log's rate.
     * Before any update: the group's rate times d0.
     */
    @Override
    public double appliedLr(int group) {
        return k == 0 ? groups().get(group).lr() * settings.d0() : lastDlr;
    }

    /** Fresh state on the parameter's device; p0 is a copy of the (sliced) parameter unless it is all zero. */
    private State fresh(Parameter p) {
        Tensor w = p.data();
        long n = w.shape().numel();
        int sp = settings.sliceP();
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor slice = null;
            if (sp > 1) {
                long count = (n + sp - 1) / sp;
                long[] idx = new long[(int) count];
                for (int i = 0; i < count; i++) {
                    idx[i] = (long) i * sp;
                }
                slice = Tensor.ofLongs(idx, count).to(w.device());
            }
            long sliced = slice == null ? n : slice.shape().numel();
            Tensor s = Tensor.zeros(w.device(), DType.F32, sliced);
            Tensor p0 = null;
            if (anyNonZero(w)) {
                p0 = Tensor.empty(w.device(), DType.F32, sliced);
                w.backend().copy(sliced(w, slice), p0);
            }
            Tensor m = settings.beta1() > 0 ? Tensor.zeros(w.device(), DType.F32, w.shape().toArray()) : null;
            return new State(s, p0, m, Tensor.zeros(w.device(), DType.F32, w.shape().toArray()), slice);
        }
    }

    private static boolean anyNonZero(Tensor w) {
        Tensor max = Tensor.empty(w.device(), DType.F32, 1, 1);
        Tensor abs = Tensor.empty(w.device(), DType.F32, w.shape().toArray());
        w.backend().unary(UnaryOp.ABS, w, abs);
        w.backend().reduce(ReduceOp.MAX, abs.reshape(1, w.shape().numel()), new int[] {0, 1}, max);
        return max.toDoubleArray()[0] != 0;
    }

    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : allParams()) {
            State s = state.get(e.getKey());
            if (s != null) {
                String n = e.getKey();
                out.put(n + ".s", s.s);
                try (MemoryScope outside = MemoryScope.suspend()) {
                    out.put(n + ".p0", s.p0 != null ? s.p0 : Tensor.zeros(DType.F32));
                }
                out.put(n + ".step", count(s.step));
                if (s.m != null) {
                    out.put(n + ".exp_avg", s.m);
                }
                out.put(n + ".exp_avg_sq", s.v);
            }
        }
        try (MemoryScope outside = MemoryScope.suspend()) {
            out.put(D, Tensor.ofDoubles(new double[] {d}, new long[0]));
            out.put(D_MAX, Tensor.ofDoubles(new double[] {dMax}, new long[0]));
            out.put(NUMERATOR, Tensor.ofDoubles(new double[] {numerator}, new long[0]));
            out.put(K, count(k));
        }
        return out;
    }

    /**
     * Restores the run's estimate and every parameter's slots; a parameter without a saved {@code .step} starts fresh
     * (p0 taken from its current value, as for a parameter stepped for the first time).
     */
    @Override
    public void loadStateDict(StateSource source) {
        List<String> problems = new ArrayList<>();
        Shape scalar = Shape.of(new long[0]);
        Tensor dT = slot(source, D, scalar, problems);
        Tensor dMaxT = slot(source, D_MAX, scalar, problems);
        Tensor numT = slot(source, NUMERATOR, scalar, problems);
        Tensor kT = slot(source, K, scalar, problems);
        Map<String, State> loaded = new HashMap<>();
        for (var e : allParams()) {
            String n = e.getKey();
            if (!source.keys().contains(n + ".step")) {
                continue;
            }
            State s = fresh(e.getValue());
            Tensor step = slot(source, n + ".step", scalar, problems);
            Tensor ss = slot(source, n + ".s", s.s.shape(), problems);
            Tensor v = slot(source, n + ".exp_avg_sq", s.v.shape(), problems);
            Tensor m = s.m == null ? null : slot(source, n + ".exp_avg", s.m.shape(), problems);
            Tensor p0 = source.keys().contains(n + ".p0") ? source.get(n + ".p0") : null;
            boolean p0Zero = p0 != null && p0.shape().rank() == 0;
            if (p0 == null) {
                problems.add(n + ".p0: missing");
            } else if (!p0Zero && !p0.shape().equals(s.s.shape())) {
                problems.add(n + ".p0: expected " + s.s.shape() + " or a scalar, got " + p0.shape());
            }
            if (step == null || ss == null || v == null || (s.m != null && m == null) || p0 == null
                    || (!p0Zero && !p0.shape().equals(s.s.shape()))) {
                continue;
            }
            Tensor p0Copy = null;
            if (!p0Zero) {
                try (MemoryScope outside = MemoryScope.suspend()) {
                    p0Copy = Tensor.empty(s.s.device(), DType.F32, s.s.shape().toArray());
                }
                p0Copy.backend().copy(p0, p0Copy);
            }
            State r = new State(s.s, p0Copy, s.m, s.v, s.slice);
            r.s.backend().copy(ss, r.s);
            r.v.backend().copy(v, r.v);
            if (m != null) {
                r.m.backend().copy(m, r.m);
            }
            r.step = step.getLong();
            loaded.put(n, r);
        }
        failIfAny(problems, "Prodigy");
        state.clear();
        state.putAll(loaded);
        d = dT.getDouble();
        dMax = dMaxT.getDouble();
        numerator = numT.getDouble();
        k = kT.getLong();
    }
}
