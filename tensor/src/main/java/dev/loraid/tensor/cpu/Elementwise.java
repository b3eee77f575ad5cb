package dev.loraid.tensor.cpu;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * Elementwise maps with broadcasting: unary (+ backward), binary, binary with a scalar, and axpby. Inputs are
 * expanded to the output's shape and walked as runs ({@link StridedLoop}); each run is loaded into work buffers
 * (fp32, or fp64 when every operand is F64), computed with vector bodies, and stored.
 */
final class Elementwise {
    /**
     * Elements computed per pass through the float work buffers: 1 KiB each, so they stay in L1 next to the
     * streamed operands. Whole {@link StridedLoop#PIECE} runs (8 KiB buffers) evict each other: on one core of the
     * dev box a contiguous 4096 x 1536 F32 add took 8-9 ms that way and 4-5 ms in blocks of 256 (a plain vector
     * loop over the memory: 3.3 ms); 1024 and 2048 were as slow as whole runs.
     */
    private static final int BLOCK = 256;

    private Elementwise() {
    }

    @FunctionalInterface
    interface FloatBody {
        void apply(float[][] in, float[] out, int n);
    }

    @FunctionalInterface
    interface DoubleBody {
        void apply(double[][] in, double[] out, int n);
    }

    static void unary(UnaryOp op, Tensor x, Tensor out) {
        map(out, new Tensor[] {x},
            (in, o, n) -> UnaryKernels.forward(op, in[0], o, n),
            (in, o, n) -> {
                for (int i = 0; i < n; i++) {
                    o[i] = op.apply(in[0][i]);
                }
            });
    }

    static void unaryBackward(UnaryOp op, Tensor x, Tensor dOut, Tensor dx) {
        map(dx, new Tensor[] {x, dOut},
            (in, o, n) -> UnaryKernels.backward(op, in[0], in[1], o, n),
            (in, o, n) -> {
                for (int i = 0; i < n; i++) {
                    o[i] = in[1][i] * op.derivative(in[0][i]);
                }
            });
    }

    static void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        map(out, new Tensor[] {a, b},
            (in, o, n) -> binaryBody(op, in[0], in[1], o, n),
            (in, o, n) -> {
                for (int i = 0; i < n; i++) {
                    o[i] = op.apply(in[0][i], in[1][i]);
                }
            });
    }

    static void binaryScalar(BinaryOp op, Tensor a, double scalar, Tensor out) {
        Tensor s = Tensor.empty(a.dtype() == DType.F64 ? DType.F64 : DType.F32);
        s.dtype().write(s.storage().segment(), 0, scalar);
        binary(op, a, s, out);
    }

    static void addScaled(Tensor a, double alpha, Tensor b, double beta, Tensor out) {
        float fa = (float) alpha;
        float fb = (float) beta;
        map(out, new Tensor[] {a, b},
            (in, o, n) -> {
                for (int i = 0; i < n; i += VL) {
                    v(in[1], i).fma(FloatVector.broadcast(F, fb), v(in[0], i).mul(fa)).intoArray(o, i);
                }
            },
            (in, o, n) -> {
                for (int i = 0; i < n; i++) {
                    o[i] = in[0][i] * alpha + in[1][i] * beta;
                }
            });
    }

    private static void binaryBody(BinaryOp op, float[] a, float[] b, float[] o, int n) {
        switch (op) { // one small method per op, so each compiles on its own (see UnaryKernels)
            case ADD -> add(a, b, o, n);
            case SUB -> sub(a, b, o, n);
            case MUL -> mul(a, b, o, n);
            case DIV -> div(a, b, o, n);
            case MAX -> max(a, b, o, n);
            case MIN -> min(a, b, o, n);
            case GT -> gt(a, b, o, n);
            case POW -> {
                for (int i = 0; i < n; i++) {
                    o[i] = (float) Math.pow(a[i], b[i]);
                }
            }
        }
    }

    private static void add(float[] a, float[] b, float[] o, int n) {
        for (int i = 0; i < n; i += VL) {
            v(a, i).add(v(b, i)).intoArray(o, i);
        }
    }

    private static void sub(float[] a, float[] b, float[] o, int n) {
        for (int i = 0; i < n; i += VL) {
            v(a, i).sub(v(b, i)).intoArray(o, i);
        }
    }

    private static void mul(float[] a, float[] b, float[] o, int n) {
        for (int i = 0; i < n; i += VL) {
            v(a, i).mul(v(b, i)).intoArray(o, i);
        }
    }

    private static void div(float[] a, float[] b, float[] o, int n) {
        for (int i = 0; i < n; i += VL) {
            v(a, i).div(v(b, i)).intoArray(o, i);
        }
    }

    private static void max(float[] a, float[] b, float[] o, int n) {
        for (int i = 0; i < n; i += VL) {
            v(a, i).max(v(b, i)).intoArray(o, i);
        }
    }

    private static void min(float[] a, float[] b, float[] o, int n) {
        for (int i = 0; i < n; i += VL) {
            v(a, i).min(v(b, i)).intoArray(o, i);
        }
    }

    private static void gt(float[] a, float[] b, float[] o, int n) {
        for (int i = 0; i < n; i += VL) {
            FloatVector.zero(F).blend(1f, v(a, i).compare(VectorOperators.GT, v(b, i))).intoArray(o, i);
        }
    }

    private static FloatVector v(float[] a, int i) {
        return FloatVector.fromArray(F, a, i);
    }

    /** Runs {@code out = body(inputs)}; inputs broadcast to out's shape; fp64 only when every operand is F64. */
    static void map(Tensor out, Tensor[] inputs, FloatBody fBody, DoubleBody dBody) {
        int k = inputs.length;
        Tensor[] ops = new Tensor[k + 1];
        boolean f64 = out.dtype() == DType.F64;
        for (int i = 0; i < k; i++) {
            ops[i] = inputs[i].shape().equals(out.shape()) ? inputs[i] : inputs[i].expand(out.shape());
            f64 &= inputs[i].dtype() == DType.F64;
        }
        ops[k] = out;
        MemorySegment[] seg = new MemorySegment[k + 1];
        DType[] type = new DType[k + 1];
        for (int i = 0; i <= k; i++) {
            seg[i] = ops[i].storage().segment();
            type[i] = ops[i].dtype();
        }
        boolean dbl = f64;
        StridedLoop.of(out.shape().toArray(), ops).forEachRun(1, (base, stride, n) -> {
            if (dbl) {
                double[][] in = new double[k][];
                for (int i = 0; i < k; i++) {
                    in[i] = CpuScratch.doubles(i, n);
                }
                double[] o = CpuScratch.doubles(k, n);
                for (int i = 0; i < k; i++) {
                    Lanes.load(seg[i], type[i], base[i], stride[i], in[i], 0, n);
                }
                dBody.apply(in, o, n);
                Lanes.store(o, 0, n, seg[k], type[k], base[k], stride[k]);
            } else {
                int p = Lanes.padded(Math.min(n, BLOCK));
                float[][] in = new float[k][];
                for (int i = 0; i < k; i++) {
                    in[i] = CpuScratch.floats(i, p);
                }
                float[] o = CpuScratch.floats(k, p);
                for (int from = 0; from < n; from += BLOCK) {
                    int m = Math.min(BLOCK, n - from);
                    for (int i = 0; i < k; i++) {
                        Lanes.load(seg[i], type[i], base[i] + from * stride[i], stride[i], in[i], 0, m);
                    }
                    fBody.apply(in, o, m);
                    Lanes.store(o, 0, m, seg[k], type[k], base[k] + from * stride[k], stride[k]);
                }
            }
        });
    }
}
