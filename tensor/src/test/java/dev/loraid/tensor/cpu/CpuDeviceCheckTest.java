package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.Arena;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every op of the CPU backend refuses a tensor that lives on a GPU, naming the op and the argument, before any
 * kernel reads the storage (a device address read as host memory crashes the JVM). The op table must list every
 * {@link Backend} method that takes tensors, so an op added later cannot escape the check unnoticed.
 */
class CpuDeviceCheckTest {
    private static final Backend CPU = new CpuBackend();
    private static final long[] GPU_DIMS = {3, 5};

    /** A {@link Backend} call with its tensor arguments passed in declaration order. */
    @FunctionalInterface
    interface Call {
        void run(Tensor[] t);
    }

    /** One op: its name, its tensor arguments' names (as in {@link Backend}), and the call. */
    record Op(String name, List<String> args, Call call) {
        static Op of(String name, String args, Call call) {
            return new Op(name, List.of(args.split(", ")), call);
        }
    }

    private static final List<Op> OPS = List.of(
        Op.of("copy", "src, dst", t -> CPU.copy(t[0], t[1])),
        Op.of("fill", "dst", t -> CPU.fill(t[0], 1)),
        Op.of("gatherRows", "table, ids, out", t -> CPU.gatherRows(t[0], t[1], t[2])),
        Op.of("matmul", "a, b, c, bias", t -> CPU.matmul(t[0], t[1], t[2], 1, 0, t[3])),
        Op.of("unary", "x, out", t -> CPU.unary(UnaryOp.values()[0], t[0], t[1])),
        Op.of("unaryBackward", "x, dOut, dx", t -> CPU.unaryBackward(UnaryOp.values()[0], t[0], t[1], t[2])),
        Op.of("binary", "a, b, out", t -> CPU.binary(BinaryOp.values()[0], t[0], t[1], t[2])),
        Op.of("binaryScalar", "a, out", t -> CPU.binaryScalar(BinaryOp.values()[0], t[0], 2, t[1])),
        Op.of("addScaled", "a, b, out", t -> CPU.addScaled(t[0], 1, t[1], 1, t[2])),
        Op.of("reduce", "x, out", t -> CPU.reduce(ReduceOp.values()[0], t[0], new int[] {1}, t[1])),
        Op.of("softmax", "x, out", t -> CPU.softmax(t[0], t[1])),
        Op.of("softmaxBackward", "y, dy, dx", t -> CPU.softmaxBackward(t[0], t[1], t[2])),
        Op.of("layerNorm", "x, weight, bias, out, mean, rstd",
            t -> CPU.layerNorm(t[0], t[1], t[2], 1e-5, t[3], t[4], t[5])),
        Op.of("layerNormBackward", "x, weight, mean, rstd, dOut, dx, dWeight, dBias",
            t -> CPU.layerNormBackward(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7])),
        Op.of("rmsNorm", "x, weight, out, rstd", t -> CPU.rmsNorm(t[0], t[1], 1e-5, t[2], t[3])),
        Op.of("rmsNormBackward", "x, weight, rstd, dOut, dx, dWeight",
            t -> CPU.rmsNormBackward(t[0], t[1], t[2], t[3], t[4], t[5])),
        Op.of("rope", "x, cos, sin, out", t -> CPU.rope(t[0], t[1], t[2], false, t[3])),
        Op.of("attention", "q, k, v, out, lse", t -> CPU.attention(t[0], t[1], t[2], 0.5, null, t[3], t[4])),
        Op.of("attentionBackward", "q, k, v, out, dOut, lse, dq, dk, dv",
            t -> CPU.attentionBackward(t[0], t[1], t[2], t[3], t[4], t[5], 0.5, null, t[6], t[7], t[8])),
        Op.of("attentionWithBias", "q, k, v, bias, out",
            t -> CPU.attentionWithBias(t[0], t[1], t[2], t[3], 0.5, null, t[4])),
        Op.of("randomUniform", "dst", t -> CPU.randomUniform(t[0], 1, 0)),
        Op.of("randomNormal", "dst", t -> CPU.randomNormal(t[0], 1, 0)),
        Op.of("adamwUpdate", "param, grad, m, v", t -> CPU.adamwUpdate(t[0], t[1], t[2], t[3], 1e-3, 0.9, 0.999,
            1e-8, 0.01, 1)),
        Op.of("adamw8bitUpdate", "param, grad, m, v, absmaxM, absmaxV, mapM, mapV", t -> CPU.adamw8bitUpdate(t[0], t[1],
            t[2], t[3], t[4], t[5], t[6], t[7], 1e-3, 0.9, 0.999, 1e-8, 0.01, 1)),
        Op.of("conv3d", "x, weight, bias, out", t -> CPU.conv3d(t[0], t[1], t[2], new int[] {1, 1, 1}, new int[6], t[3])),
        Op.of("conv3dBackward", "x, weight, dOut, dx, dWeight, dBias",
            t -> CPU.conv3dBackward(t[0], t[1], t[2], new int[] {1, 1, 1}, new int[6], t[3], t[4], t[5])),
        Op.of("upsampleNearest", "x, out", t -> CPU.upsampleNearest(t[0], t[1])),
        Op.of("pad", "x, out", t -> CPU.pad(t[0], new int[] {0}, t[1])));

    /**
     * A tensor whose storage claims cuda:0 but is real host memory: no GPU is needed, and an op that forgot the
     * check computes on it harmlessly (the test then fails on the missing exception) instead of crashing.
     */
    static Tensor fakeGpuTensor(long... dims) {
        Shape s = Shape.of(dims);
        Storage st = new Storage(Device.cuda(0), Arena.ofAuto().allocate(s.numel() * DType.F32.byteSize()), null);
        return new Tensor(st, DType.F32, s, s.contiguousStrides(), 0);
    }

    @TestFactory
    List<DynamicTest> everyTensorArgumentOfEveryOpIsCheckedFirst() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Op op : OPS) {
            for (int i = 0; i < op.args().size(); i++) {
                int gpuArg = i;
                String arg = op.args().get(i);
                tests.add(DynamicTest.dynamicTest(op.name() + " " + arg, () -> {
                    // the other arguments are small valid CPU tensors: the device check must fire before any
                    // shape or dtype check, whatever they hold
                    Tensor[] t = new Tensor[op.args().size()];
                    for (int j = 0; j < t.length; j++) {
                        t[j] = j == gpuArg ? fakeGpuTensor(GPU_DIMS) : Tensor.zeros(DType.F32, 2, 2);
                    }
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> op.call().run(t));
                    assertEquals(op.name() + ": argument " + arg + " is on cuda:0 [3, 5] but this is the CPU backend; "
                        + "move it with tensor.to(Device.CPU) or use the tensor's backend (tensor.backend())",
                        e.getMessage());
                }));
            }
        }
        return tests;
    }

    @Test
    void nullOptionalArgumentsPassTheCheck() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
        Tensor c = Tensor.zeros(DType.F32, 2, 2);
        CPU.matmul(a, b, c, 1, 0, null);
        assertEquals(1 + 3, c.getDouble(0, 0), 0);
        assertEquals(2 + 3, c.getDouble(0, 1), 0);
        assertEquals(4 + 6, c.getDouble(1, 0), 0);
        assertEquals(5 + 6, c.getDouble(1, 1), 0);
        Tensor x = Tensor.of(new float[] {1, 3}, 1, 2);
        Tensor out = Tensor.zeros(DType.F32, 1, 2);
        CPU.layerNorm(x, null, null, 0, out, null, null);
        assertEquals(-1, out.getDouble(0, 0), 1e-6);
        assertEquals(1, out.getDouble(0, 1), 1e-6);
    }

    /** The table covers every Backend method that takes tensors, each with all of its tensor arguments. */
    @Test
    void tableCoversEveryBackendOpTakingTensors() {
        Map<String, Long> declared = new TreeMap<>();
        for (Method m : Backend.class.getMethods()) {
            long tensors = Arrays.stream(m.getParameterTypes()).filter(p -> p == Tensor.class).count();
            if (tensors > 0) {
                assertNull(declared.put(m.getName(), tensors), "overloaded Backend method " + m.getName()
                    + ": give the table one entry per overload");
            }
        }
        Map<String, Long> tabled = OPS.stream().collect(Collectors.toMap(Op::name, op -> (long) op.args().size(),
            (x, y) -> {
                throw new AssertionError("op listed twice");
            }, TreeMap::new));
        assertEquals(declared, tabled, "ops (name → number of tensor arguments) in Backend vs in this test's table");
    }
}
