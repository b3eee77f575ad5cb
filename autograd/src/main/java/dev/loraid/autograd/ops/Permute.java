package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Tensor;

/** Reorders dimensions (a view). The gradient is permuted by the inverse order (also a view). */
public final class Permute extends Node {
    private final int[] inverse;

    private Permute(Var x, int[] order) {
        super(x);
        int r = order.length;
        this.inverse = new int[r];
        for (int i = 0; i < r; i++) {
            inverse[x.shape().normalize(order[i])] = i;
        }
    }

    public static Var apply(Var x, int... order) {
        Tensor out = x.data().permute(order);
        return Var.result(out, Node.recording(x) ? new Permute(x, order) : null, x);
    }

    public static Var transpose(Var x, int a, int b) {
        int[] order = new int[x.rank()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        int na = x.shape().normalize(a);
        int nb = x.shape().normalize(b);
        order[na] = nb;
        order[nb] = na;
        return apply(x, order);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        return new Tensor[] {g.permute(inverse)};
    }
}
