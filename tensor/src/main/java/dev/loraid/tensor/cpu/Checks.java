package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

import java.util.Arrays;

/** Argument checks shared by the kernels; messages name the argument, what it is and what was expected. */
final class Checks {
    private Checks() {
    }

    /**
     * Rejects, before any kernel runs, a tensor that does not live in host memory: a CUDA storage's segment holds
     * a device address, and reading it as host memory fails obscurely or crashes the JVM. {@code names} names the
     * tensor arguments in order, as in {@link dev.loraid.tensor.Backend} ("a, b, c"; split only for the message);
     * null (optional) arguments pass.
     */
    static void onCpu(String op, String names, Tensor... args) {
        for (int i = 0; i < args.length; i++) {
            Tensor t = args[i];
            if (t != null && !t.device().isCpu()) {
                throw new IllegalArgumentException(op + ": argument " + names.split(", ")[i] + " is on " + t.device()
                    + " " + t.shape() + " but this is the CPU backend; move it with tensor.to(Device.CPU) or use the "
                    + "tensor's backend (tensor.backend())");
            }
        }
    }

    static void sameShape(Tensor expected, Tensor actual, String what) {
        if (!expected.shape().equals(actual.shape())) {
            throw new IllegalArgumentException(what + " has shape " + actual.shape() + ", expected " + expected.shape());
        }
    }

    static void shape(Tensor t, String what, long... dims) {
        if (!Arrays.equals(t.shape().toArray(), dims)) {
            throw new IllegalArgumentException(what + " has shape " + t.shape() + ", expected " + Arrays.toString(dims));
        }
    }

    /** A [n] vector (weight, bias) loaded as floats, or null. */
    static float[] vectorF(Tensor t, long n, String what, int padded) {
        if (t == null) {
            return null;
        }
        shape(t, what, n);
        float[] v = new float[padded];
        Lanes.load(t.storage().segment(), t.dtype(), t.offset(), t.stride(0), v, 0, (int) n);
        return v;
    }

    /** A [n] vector (weight, bias) loaded as doubles, or null. */
    static double[] vectorD(Tensor t, long n, String what) {
        if (t == null) {
            return null;
        }
        shape(t, what, n);
        double[] v = new double[(int) n];
        Lanes.load(t.storage().segment(), t.dtype(), t.offset(), t.stride(0), v, 0, (int) n);
        return v;
    }
}
