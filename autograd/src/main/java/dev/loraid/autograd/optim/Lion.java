package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

import java.util.List;
import java.util.Map;

/**
 * lion-pytorch 0.2.3's {@code Lion} ({@code --optimizer_type lion_pytorch.Lion}, spec training.md §3.1's dotted path):
 * per parameter {@code p ← p·(1 − lr·wd)}, {@code p ← p − lr·sign(β1·m + (1 − β1)·g)}, then
 * {@code m ← β2·m + (1 − β2)·g} (sign 0 at 0, as torch's); with decoupled weight decay wd is divided by the rate the
 * optimizer was made with. Defaults betas (0.9, 0.99), weight decay 0. State slot: {@code exp_avg} (and our
 * {@code step}).
 */
public final class Lion extends SlottedOptimizer<Lion.State> {
    private final double beta1;
    private final double beta2;
    private final boolean decoupled;
    private final double initLr;

    static final class State extends Slots {
        final Tensor m;

        State(Tensor m) {
            this.m = m;
        }

        @Override
        Map<String, Tensor> slots() {
            return Map.of(".exp_avg", m);
        }
    }

    /**
     * @param decoupled lion-pytorch's {@code decoupled_weight_decay}: the decay is divided by the first group's rate
     */
    public Lion(List<ParamGroup> groups, double beta1, double beta2, boolean decoupled) {
        super(groups);
        if (!(beta1 >= 0 && beta1 <= 1 && beta2 >= 0 && beta2 <= 1)) {
            throw new IllegalArgumentException("Lion: betas must be in [0, 1], got (" + beta1 + ", " + beta2 + ")");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.decoupled = decoupled;
        this.initLr = groups.getFirst().baseLr();
    }

    @Override
    void update(int group, ParamGroup g, Parameter p, State s, boolean first) {
        double lr = g.lr();
        double wd = decoupled ? g.weightDecay() / initLr : g.weightDecay();
        Tensor w = p.data();
        Tensor grad = p.grad();
        Backend be = w.backend();
        try (MemoryScope scope = MemoryScope.open()) {
            if (wd != 0) {
                be.binaryScalar(BinaryOp.MUL, w, 1.0 - lr * wd, w);
            }
            Tensor u = Tensor.empty(w.device(), DType.F32, w.shape().toArray());
            be.addScaled(s.m, beta1, grad, 1 - beta1, u);
            Tensor negative = Tensor.empty(w.device(), DType.F32, w.shape().toArray());
            be.unary(UnaryOp.NEG, u, negative);
            be.binaryScalar(BinaryOp.GT, negative, 0.0, negative); // 1 where u < 0
            be.binaryScalar(BinaryOp.GT, u, 0.0, u);               // 1 where u > 0
            be.binary(BinaryOp.SUB, u, negative, u);                // sign(u), 0 at 0
            be.addScaled(w, 1.0, u, -lr, w);
            be.addScaled(s.m, beta2, grad, 1 - beta2, s.m);
        }
    }

    @Override
    State fresh(Parameter p) {
        return new State(persistentZeros(p));
    }
}
