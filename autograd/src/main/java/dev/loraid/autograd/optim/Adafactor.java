package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * transformers' {@code Adafactor} ({@code --optimizer_type Adafactor}, spec training.md §3.1): the second moment of a
 * parameter of rank ≥ 2 is kept factored, as running means of the squared gradient over its last dimension
 * ({@code exp_avg_sq_row}) and over its second-to-last ({@code exp_avg_sq_col}); a vector keeps a full
 * {@code exp_avg_sq}. Per parameter and step t:
 * <pre>
 *   ρ = relative_step ? min(warmup_init ? 1e-6·t : 1e-2, 1/√t) : group lr
 *   lr = ρ · (scale_parameter ? max(eps2, RMS(p)) : 1)          RMS(p) before this step's update
 *   β2t = 1 − t^decay_rate;  s = g² + eps1
 *   row ← β2t·row + (1−β2t)·mean_last(s);  col ← β2t·col + (1−β2t)·mean_second_last(s)
 *   u = rsqrt(row / mean(row)) ⊗ rsqrt(col) · g           (vector: v ← β2t·v + (1−β2t)·s;  u = rsqrt(v)·g)
 *   u ← u / max(1, RMS(u)/clip_threshold) · lr
 *   beta1: m ← β1·m + (1−β1)·u;  u = m
 *   p ← p − weight_decay·lr·p − u
 * </pre>
 * Every step runs on the parameter's device from backend operations; nothing is read back except, for logging, the
 * rate applied to each group's first parameter ({@link #appliedLr}).
 */
public final class Adafactor extends SlottedOptimizer<Adafactor.State> {
    private final Settings settings;
    /** The device scalar holding the rate last applied to each group's first parameter (null before a step). */
    private final Tensor[] firstLr;

    /**
     * transformers' arguments, with its defaults in {@link #defaults()}.
     *
     * @param eps1           added to the squared gradient (1e-30)
     * @param eps2           the smallest parameter scale (1e-3)
     * @param clipThreshold  the update's RMS is clipped to this (1.0)
     * @param decayRate      β2t = 1 − t^decayRate (−0.8)
     * @param beta1          the first moment's decay, or null for none (the default)
     * @param weightDecay    decoupled decay, scaled by the step's rate (0)
     * @param scaleParameter multiply the rate by the parameter's RMS (true)
     * @param relativeStep   the rate is 1e-2, then 1/√t, ignoring the group's (true)
     * @param warmupInit     with relative steps, rise as 1e-6·t first (false)
     */
    public record Settings(double eps1, double eps2, double clipThreshold, double decayRate, Double beta1,
            double weightDecay, boolean scaleParameter, boolean relativeStep, boolean warmupInit) {
        public Settings {
            if (warmupInit && !relativeStep) {
                throw new IllegalArgumentException("Adafactor: warmup_init requires relative_step=True");
            }
            if (beta1 != null && !(beta1 >= 0 && beta1 < 1)) {
                throw new IllegalArgumentException("Adafactor: beta1 must be in [0, 1), got " + beta1);
            }
            if (!(clipThreshold > 0) || !(eps1 >= 0) || !(eps2 >= 0) || !(weightDecay >= 0) || !(decayRate < 0)) {
                throw new IllegalArgumentException("Adafactor: clip_threshold must be > 0, eps ≥ 0, weight_decay ≥ 0 and "
                    + "decay_rate < 0, got " + clipThreshold + ", (" + eps1 + ", " + eps2 + "), " + weightDecay + ", "
                    + decayRate);
            }
        }

        /** transformers' defaults: eps (1e-30, 1e-3), clip 1, decay −0.8, no beta1, no decay, scaled relative steps. */
        public static Settings defaults() {
            return new Settings(1e-30, 1e-3, 1.0, -0.8, null, 0.0, true, true, false);
        }
    }

    /** One parameter's state; {@code row}/{@code col} for a factored one, else {@code sq}; {@code m} with beta1. */
    static final class State extends Slots {
        final Tensor row;
        final Tensor col;
        final Tensor sq;
        final Tensor m;

        State(Tensor row, Tensor col, Tensor sq, Tensor m) {
            this.row = row;
            this.col = col;
            this.sq = sq;
            this.m = m;
        }

        @Override
        Map<String, Tensor> slots() {
            Map<String, Tensor> out = new LinkedHashMap<>();
            if (row != null) {
                out.put(".exp_avg_sq_row", row);
                out.put(".exp_avg_sq_col", col);
            } else {
                out.put(".exp_avg_sq", sq);
            }
            if (m != null) {
                out.put(".exp_avg", m);
            }
            return out;
        }
    }

    public Adafactor(List<ParamGroup> groups, Settings settings) {
        super(groups);
        this.settings = settings;
        this.firstLr = new Tensor[groups.size()];
    }

    public Settings settings() {
        return settings;
    }

    @Override
    void update(int group, ParamGroup g, Parameter p, State s, boolean first) {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor lr = Tensor.empty(p.data().device(), DType.F32, ones(p.shape().rank()));
            update(p, s, g.lr(), lr);
            if (first) {
                if (firstLr[group] == null) {
                    try (MemoryScope outside = MemoryScope.suspend()) {
                        firstLr[group] = Tensor.empty(p.data().device(), DType.F32, 1);
                    }
                }
                lr.backend().copy(lr.view(1), firstLr[group]);
            }
        }
    }

    private void update(Parameter param, State s, double groupLr, Tensor lr) {
        Tensor p = param.data();
        Tensor g = param.grad();
        Backend be = p.backend();
        long[] shape = p.shape().toArray();
        int rank = shape.length;
        double t = s.step;
        double rel = settings.relativeStep() ? Math.min(settings.warmupInit() ? 1e-6 * t : 1e-2, 1.0 / Math.sqrt(t)) : groupLr;
        if (settings.scaleParameter()) {
            rms(p, lr);
            be.binaryScalar(BinaryOp.MAX, lr, settings.eps2(), lr);
            be.binaryScalar(BinaryOp.MUL, lr, rel, lr);
        } else {
            be.fill(lr, rel);
        }
        double beta2t = 1.0 - Math.pow(t, settings.decayRate());
        Tensor sq = like(p);
        be.unary(UnaryOp.SQUARE, g, sq);
        be.binaryScalar(BinaryOp.ADD, sq, settings.eps1(), sq);
        Tensor u = like(p);
        if (s.row != null) {
            long[] rowShape = shape.clone();
            rowShape[rank - 1] = 1;
            long[] colShape = shape.clone();
            colShape[rank - 2] = 1;
            Tensor row = s.row.view(rowShape);
            Tensor col = s.col.view(colShape);
            Tensor rowMean = Tensor.empty(p.device(), DType.F32, rowShape);
            be.reduce(ReduceOp.MEAN, sq, new int[] {rank - 1}, rowMean);
            be.addScaled(row, beta2t, rowMean, 1.0 - beta2t, row);
            Tensor colMean = Tensor.empty(p.device(), DType.F32, colShape);
            be.reduce(ReduceOp.MEAN, sq, new int[] {rank - 2}, colMean);
            be.addScaled(col, beta2t, colMean, 1.0 - beta2t, col);
            long[] cornerShape = rowShape.clone();
            cornerShape[rank - 2] = 1;
            Tensor meanOfRow = Tensor.empty(p.device(), DType.F32, cornerShape);
            be.reduce(ReduceOp.MEAN, row, new int[] {rank - 2}, meanOfRow);
            Tensor rFactor = Tensor.empty(p.device(), DType.F32, rowShape);
            be.binary(BinaryOp.DIV, row, meanOfRow, rFactor);
            be.unary(UnaryOp.RSQRT, rFactor, rFactor);
            Tensor cFactor = Tensor.empty(p.device(), DType.F32, colShape);
            be.unary(UnaryOp.RSQRT, col, cFactor);
            be.binary(BinaryOp.MUL, rFactor, cFactor, u);
        } else {
            be.addScaled(s.sq, beta2t, sq, 1.0 - beta2t, s.sq);
            be.unary(UnaryOp.RSQRT, s.sq, u);
        }
        be.binary(BinaryOp.MUL, u, g, u);
        Tensor denom = Tensor.empty(p.device(), DType.F32, ones(rank));
        rms(u, denom);
        be.binaryScalar(BinaryOp.DIV, denom, settings.clipThreshold(), denom);
        be.binaryScalar(BinaryOp.MAX, denom, 1.0, denom);
        be.binary(BinaryOp.DIV, u, denom, u);
        be.binary(BinaryOp.MUL, u, lr, u);
        if (s.m != null) {
            be.addScaled(s.m, settings.beta1(), u, 1.0 - settings.beta1(), s.m);
            u = s.m;
        }
        if (settings.weightDecay() != 0) {
            Tensor decay = Tensor.empty(p.device(), DType.F32, ones(rank));
            be.binaryScalar(BinaryOp.MUL, lr, -settings.weightDecay(), decay);
            Tensor decayed = like(p);
            be.binary(BinaryOp.MUL, p, decay, decayed);
            be.binary(BinaryOp.ADD, p, decayed, p);
        }
        be.binary(BinaryOp.SUB, p, u, p);
    }

    /** {@code out} (all dimensions 1) = ‖x‖₂ / √numel, as transformers' {@code _rms}. */
    private static void rms(Tensor x, Tensor out) {
        int[] all = new int[x.rank()];
        Arrays.setAll(all, i -> i);
        Backend be = x.backend();
        be.reduce(ReduceOp.SUM_SQUARES, x, all, out);
        be.unary(UnaryOp.SQRT, out, out);
        be.binaryScalar(BinaryOp.DIV, out, Math.sqrt(x.shape().numel()), out);
    }

    private static Tensor like(Tensor p) {
        return Tensor.empty(p.device(), DType.F32, p.shape().toArray());
    }

    private static long[] ones(int rank) {
        long[] out = new long[rank];
        Arrays.fill(out, 1);
        return out;
    }

    /**
     * The rate the last {@link #step} applied to group {@code group}'s first parameter, as transformers'
     * {@code AdafactorSchedule} reports it with relative steps (read back from the device); the group's scheduled rate
     * otherwise, as upstream's scheduler reports it then.
     */
    @Override
    public double appliedLr(int group) {
        Tensor lr = firstLr[group];
        if (!settings.relativeStep() || lr == null) {
            return super.appliedLr(group);
        }
        return lr.toDoubleArray()[0];
    }

    /** Zero state on the parameter's device: row [..., R] and col [..., C] for rank ≥ 2, else a full second moment. */
    @Override
    State fresh(Parameter p) {
        long[] shape = p.shape().toArray();
        int rank = shape.length;
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor m = settings.beta1() == null ? null : Tensor.zeros(p.data().device(), DType.F32, shape);
            if (rank < 2) {
                return new State(null, null, Tensor.zeros(p.data().device(), DType.F32, shape), m);
            }
            long[] row = Arrays.copyOf(shape, rank - 1);
            long[] col = Arrays.copyOf(shape, rank - 1);
            col[rank - 2] = shape[rank - 1];
            return new State(Tensor.zeros(p.data().device(), DType.F32, row),
                Tensor.zeros(p.data().device(), DType.F32, col), null, m);
        }
    }
}
