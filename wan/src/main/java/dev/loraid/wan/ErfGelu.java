package dev.loraid.wan;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Layer;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

/**
 * GELU with the exact erf, {@code x·Φ(x) = ½·x·erfc(−x/√2)}, as CLIP and {@code img_emb} use it (pitfall 10); the
 * backend's GELU is the tanh approximation. Composed from differentiable ops: erfc(z), z ≥ 0, by the Chebyshev
 * fit of Numerical Recipes §6.2 (relative error below 1.2e-7 everywhere: exact at fp32), and the sign handled by
 * {@code erfc(−u) = 1 + s·(1 − erfc(|u|))}, s = sign(u) held constant (its derivative is zero almost everywhere).
 * It runs once per call on the 257 (or 514) CLIP tokens, so a dozen elementwise passes cost nothing.
 */
public final class ErfGelu extends Module implements Layer {
    /** Coefficients of t in the exponent of erfc(z) ≈ t·exp(−z² + P(t)), t = 1/(1 + z/2), Horner order. */
    private static final double[] P = {-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
        -1.13520398, 1.48851587, -0.82215223, 0.17087277};

    @Override
    public Var forward(Var x) {
        Tensor xd = x.data();
        Tensor sign = Tensor.empty(xd.device(), Precision.computeType(xd), xd.shape().toArray());
        xd.backend().binaryScalar(BinaryOp.GT, xd, 0.0, sign);
        xd.backend().binaryScalar(BinaryOp.MUL, sign, 2.0, sign);
        xd.backend().binaryScalar(BinaryOp.SUB, sign, 1.0, sign);
        Var s = Var.constant(sign);
        Var z = x.mul(s).scale(Math.sqrt(0.5));                       // |x| / √2
        Var t = Ops.unary(UnaryOp.RECIPROCAL, Ops.addConstant(z.scale(0.5), 1.0));
        Var poly = Ops.addConstant(t.scale(P[P.length - 1]), P[P.length - 2]);
        for (int i = P.length - 3; i >= 0; i--) {
            poly = Ops.addConstant(poly.mul(t), P[i]);
        }
        Var erfcAbs = t.mul(Ops.unary(UnaryOp.EXP, poly.sub(z.mul(z))));
        Var erfcNeg = Ops.addConstant(Ops.addConstant(erfcAbs.scale(-1.0), 1.0).mul(s), 1.0);
        return x.mul(erfcNeg).scale(0.5);
    }
}
