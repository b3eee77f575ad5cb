package dev.loraid.autograd.nn;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.UnaryOp;

/** A parameterless elementwise layer (Wan's {@code ffn.1} is GELU-tanh), so Sequential indices match checkpoints. */
public class Activation extends Module implements Layer {
    private final UnaryOp op;

    public Activation(UnaryOp op) {
        this.op = op;
    }

    public static Activation gelu() {
        return new Activation(UnaryOp.GELU_TANH);
    }

    public static Activation silu() {
        return new Activation(UnaryOp.SILU);
    }

    @Override
    public Var forward(Var x) {
        return Ops.unary(op, x);
    }
}
