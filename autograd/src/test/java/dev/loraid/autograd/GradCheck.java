package dev.loraid.autograd;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Gradient check by central finite differences in F64: for {@code L = Σ f(x)·r} with a fixed random r, compares
 * every element of each input's backpropagated gradient against {@code (L(x+h) − L(x−h)) / 2h}.
 */
final class GradCheck {
    private static final double H = 1e-6;

    private GradCheck() {
    }

    /**
     * @param inputs F64 tensors (any strides), all of which get gradients checked
     */
    static void check(String name, Function<Var[], Var> f, Tensor... inputs) {
        check(name, 1e-6, f, inputs);
    }

    static void check(String name, double tol, Function<Var[], Var> f, Tensor... inputs) {
        for (Tensor t : inputs) {
            if (t.dtype() != DType.F64) {
                throw new IllegalArgumentException("gradient check needs F64 inputs, got " + t);
            }
        }
        Var[] vars = new Var[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            vars[i] = Var.leaf(inputs[i]);
        }
        Var out = f.apply(vars);
        Tensor r = RandomTensors.uniform(12345, 0.5, 1.5, out.shape().toArray());
        out.mul(Var.constant(r)).sum().backward();
        for (int i = 0; i < inputs.length; i++) {
            Tensor x = inputs[i];
            Tensor g = vars[i].grad();
            if (g == null) {
                fail(name + ": input " + i + " got no gradient");
            }
            double[] analytic = g.toDoubleArray();
            long[] dims = x.shape().toArray();
            long[] idx = new long[dims.length];
            for (int e = 0; e < analytic.length; e++) {
                double orig = x.getDouble(idx);
                x.setDouble(orig + H, idx);
                double plus = loss(f, inputs, r);
                x.setDouble(orig - H, idx);
                double minus = loss(f, inputs, r);
                x.setDouble(orig, idx);
                double numeric = (plus - minus) / (2 * H);
                double err = Math.abs(numeric - analytic[e]);
                if (err > tol * (1 + Math.abs(numeric))) {
                    fail(String.format("%s: d/d input %d %s: analytic %.10g, finite difference %.10g (error %.3g)",
                        name, i, java.util.Arrays.toString(idx), analytic[e], numeric, err));
                }
                for (int d = dims.length - 1; d >= 0; d--) {
                    if (++idx[d] < dims[d]) {
                        break;
                    }
                    idx[d] = 0;
                }
            }
        }
    }

    private static double loss(Function<Var[], Var> f, Tensor[] inputs, Tensor r) {
        try (GradMode.Scope s = GradMode.noGrad()) {
            Var[] vars = new Var[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                vars[i] = Var.constant(inputs[i]);
            }
            return f.apply(vars).mul(Var.constant(r)).sum().data().getDouble();
        }
    }
}
