package dev.loraid.autograd;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static dev.loraid.autograd.RandomTensors.f64;
import static dev.loraid.autograd.RandomTensors.f64Strided;
import static dev.loraid.autograd.RandomTensors.uniform;

/**
 * Every differentiable op against central finite differences in F64 (issue 4), one table entry per case,
 * including broadcast operands, non-contiguous (transposed) inputs and fan-out.
 */
class OpGradientTest {
    private record Case(String name, Function<Var[], Var> f, Supplier<Tensor[]> inputs) {
    }

    private static Case c(String name, Function<Var[], Var> f, Supplier<Tensor[]> inputs) {
        return new Case(name, f, inputs);
    }

    private static Tensor[] in(Tensor... ts) {
        return ts;
    }

    static List<Case> cases() {
        return List.of(
            c("add broadcast [3,4]+[4]", v -> v[0].add(v[1]), () -> in(f64(1, 3, 4), f64(2, 4))),
            c("sub broadcast [2,3,4]-[3,1], strided", v -> v[0].sub(v[1]), () -> in(f64Strided(3, 2, 3, 4), f64(4, 3, 1))),
            c("addScaled broadcast", v -> Ops.addScaled(v[0], 0.5, v[1], -2.0), () -> in(f64(63, 2, 3), f64(64, 2, 1))),
            c("mul broadcast [2,1,4]*[3,1]", v -> v[0].mul(v[1]), () -> in(f64(5, 2, 1, 4), f64(6, 3, 1))),
            c("addProduct broadcast [2,3,4]+[3,4]*[2,1,4], strided", v -> Ops.addProduct(v[0], v[1], v[2]),
                () -> in(f64Strided(65, 2, 3, 4), f64(66, 3, 4), f64(67, 2, 1, 4))),
            c("div broadcast", v -> v[0].div(v[1]), () -> in(f64(7, 2, 3), uniform(8, 0.5, 2, 3))),
            c("fan-out x*x + x", v -> v[0].mul(v[0]).add(v[0]), () -> in(f64(9, 4, 3))),
            c("scale", v -> v[0].scale(-2.5), () -> in(f64Strided(10, 3, 5))),
            c("add constant", v -> Ops.addConstant(v[0], 3.0).mul(v[0]), () -> in(f64(11, 5))),
            c("sum dims keepdim", v -> v[0].sum(new int[] {0, 2}, true), () -> in(f64Strided(12, 2, 3, 4))),
            c("sum all", v -> v[0].sum(), () -> in(f64(13, 3, 4))),
            c("mean dim", v -> v[0].mean(new int[] {-1}, false), () -> in(f64(14, 3, 4))),
            c("reshape of strided", v -> v[0].reshape(6, 2).mul(v[0].reshape(6, 2)), () -> in(f64Strided(15, 3, 4))),
            c("permute", v -> v[0].permute(2, 0, 1).mul(v[1]), () -> in(f64(16, 2, 3, 4), f64(17, 4, 2, 3))),
            c("transpose + narrow", v -> v[0].transpose(0, 1).narrow(1, 1, 2), () -> in(f64(18, 4, 3))),
            c("expand", v -> v[0].expand(3, 2, 4).mul(v[1]), () -> in(f64(19, 2, 1), f64(20, 3, 2, 4))),
            c("chunk: two of three slices, fan-out", v -> { Var[] ch = v[0].chunk(3, 1); return ch[0].mul(ch[2]).add(ch[2]); },
                () -> in(f64(62, 2, 6))),
            c("unsqueeze/squeeze", v -> v[0].unsqueeze(1).mul(v[1]).squeeze(0), () -> in(f64(21, 1, 3), f64(22, 1, 2, 3))),
            c("concat dim 1", v -> Ops.concat(List.of(v[0], v[1], v[0]), 1), () -> in(f64(23, 2, 3), f64Strided(24, 2, 2))),
            c("gelu tanh", v -> Ops.gelu(v[0]), () -> in(uniform(25, -3, 3, 3, 4))),
            c("silu strided", v -> Ops.silu(v[0]), () -> in(f64Strided(26, 3, 4))),
            c("exp/tanh/square", v -> Ops.unary(UnaryOp.EXP, v[0]).add(Ops.unary(UnaryOp.TANH, v[0])).add(Ops.square(v[0])),
                () -> in(f64(27, 6))),
            c("softmax", v -> Ops.softmax(v[0]), () -> in(uniform(28, -2, 2, 3, 5))),
            c("softmax strided", v -> Ops.softmax(v[0]), () -> in(f64Strided(29, 4, 3))),
            c("layer norm affine", v -> Ops.layerNorm(v[0], v[1], v[2], 1e-5), () -> in(f64(30, 3, 6), f64(31, 6), f64(32, 6))),
            c("layer norm plain, strided", v -> Ops.layerNorm(v[0], null, null, 1e-6), () -> in(f64Strided(33, 2, 3, 5))),
            c("rms norm", v -> Ops.rmsNorm(v[0], v[1], 1e-6), () -> in(f64(34, 4, 6), f64(35, 6))),
            c("rms norm, no weight", v -> Ops.rmsNorm(v[0], null, 1e-6), () -> in(f64Strided(36, 5, 4))),
            c("rope [L,H,D]", v -> Ops.rope(v[0], ropeTable(3, 4, true), ropeTable(3, 4, false)), () -> in(f64(37, 2, 3, 2, 8))),
            c("attention", v -> Ops.attention(v[0], v[1], v[2]),
                () -> in(f64(38, 1, 2, 3, 4), f64(39, 1, 2, 5, 4), f64(40, 1, 2, 5, 3))),
            c("attention, permuted views, masked keys", v -> Ops.attention(v[0].permute(0, 2, 1, 3), v[1].permute(0, 2, 1, 3),
                    v[2].permute(0, 2, 1, 3), 0.7, new int[] {4, 2}),
                () -> in(f64(41, 2, 3, 2, 4), f64(42, 2, 4, 2, 4), f64(43, 2, 4, 2, 4))),
            c("conv3d causal, one-sided padding, stride 2 in h", v -> Ops.conv3d(v[0], v[1], v[2], new int[] {1, 2, 1},
                    new int[] {2, 0, 1, 0, 0, 1}), () -> in(f64(70, 2, 2, 3, 5, 4), f64(71, 3, 2, 3, 3, 2), f64(72, 3))),
            c("conv3d strided input, no bias", v -> Ops.conv3d(v[0].transpose(3, 4), v[1], null, new int[] {2, 1, 2},
                    new int[] {0, 1, 1, 1, 1, 0}), () -> in(f64(73, 1, 3, 4, 5, 4), f64(74, 2, 3, 2, 2, 3))),
            c("conv2d as kt = 1", v -> Ops.conv3d(v[0], v[1], v[2], new int[] {1, 2, 2}, new int[] {0, 0, 0, 1, 0, 1}),
                () -> in(f64(75, 1, 3, 1, 6, 5), f64(76, 4, 3, 1, 3, 3), f64(77, 4))),
            c("mse loss with per-sample weights", v -> Ops.mseLoss(v[0], v[1], v[2]),
                () -> in(f64(44, 3, 2, 2), f64(45, 3, 2, 2), uniform(46, 0.5, 2, 3))),
            c("matmul 2-D", v -> v[0].matmul(v[1]), () -> in(f64(48, 3, 4), f64Strided(49, 4, 5))),
            c("matmul batched, shared 2-D b", v -> v[0].matmul(v[1]), () -> in(f64Strided(50, 2, 3, 4), f64(51, 4, 2))),
            c("matmul batch broadcast [2,1,3,4]@[3,4,2]", v -> v[0].matmul(v[1]), () -> in(f64(52, 2, 1, 3, 4), f64(53, 3, 4, 2))),
            c("linear with bias, batched [2,3,4]", v -> Ops.linear(v[0], v[1], v[2]), () -> in(f64(54, 2, 3, 4), f64(55, 5, 4), f64(56, 5))),
            c("linear, strided input and weight, no bias", v -> Ops.linear(v[0], v[1], null), () -> in(f64Strided(57, 3, 4), f64Strided(58, 2, 4))),
            c("linear, 1-D input", v -> Ops.linear(v[0], v[1], v[2]), () -> in(f64(59, 4), f64(60, 3, 4), f64(61, 3))),
            c("linearAdd [2,3,5] + 0.7·[2,3,2]@[5,2]ᵀ", v -> Ops.linearAdd(v[0], v[1], v[2], 0.7),
                () -> in(f64(65, 2, 3, 5), f64(66, 2, 3, 2), f64(67, 5, 2))),
            c("linearAdd, strided h and weight", v -> Ops.linearAdd(v[0], v[1], v[2], -1.5),
                () -> in(f64(68, 4, 3), f64Strided(69, 4, 2), f64Strided(70, 3, 2))),
            // gradients written into buffers the pass offers (GradBuffer): a leaf and a weight consumed by three
            // products (first overwritten, then added by the GEMM), a value summed from four consumers, and a LoRA
            // layer whose input gradient comes from both paths
            c("linear fan-out: one input and weight, three products", v -> Ops.linear(v[0], v[1], null)
                    .add(Ops.linear(v[0].scale(-0.5), v[1], null)).add(Ops.linear(v[0], v[1], null).scale(2)),
                () -> in(f64(71, 3, 4), f64Strided(72, 2, 4))),
            c("non-leaf summed from four consumers", v -> {
                Var u = v[0].mul(v[0]);
                Var t = Ops.linear(u, v[1], null).add(Ops.linear(u, v[2], null));
                return Ops.linearAdd(t, u, v[1], 0.3).add(Ops.linear(u.scale(2), v[2], null));
            }, () -> in(f64(73, 2, 3, 4), f64(74, 4, 4), f64(75, 4, 4))),
            c("LoRA layer: base and down-projection share the input", v -> Ops.linearAdd(Ops.linear(v[0], v[1], null),
                    Ops.linear(v[0], v[2], null), v[3], 0.5),
                () -> in(f64(76, 2, 3, 6), f64(77, 5, 6), f64(78, 2, 6), f64(79, 5, 2))),
            c("linearAddInPlace onto a Linear's output", v -> Ops.linearAddInPlace(Ops.linear(v[0], v[1], null),
                    Ops.linear(v[0], v[2], null), v[3], -0.8),
                () -> in(f64(80, 3, 6), f64(81, 4, 6), f64Strided(82, 2, 6), f64(83, 4, 2))),
            c("dropout (fixed seed)", v -> Ops.dropout(v[0], 0.4, 7, 0), () -> in(f64(47, 4, 5)))
        );
    }

    /** cos or sin of arbitrary angles [L, D/2]: the op only needs some rotation per pair. */
    private static Tensor ropeTable(long l, long half, boolean cos) {
        Tensor angles = uniform(99, -3, 3, l, half);
        double[] a = angles.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            a[i] = cos ? Math.cos(a[i]) : Math.sin(a[i]);
        }
        return Tensor.ofDoubles(a, l, half);
    }

    @TestFactory
    Stream<DynamicTest> gradientsMatchFiniteDifferences() {
        return cases().stream().map(k -> DynamicTest.dynamicTest(k.name(), () -> GradCheck.check(k.name(), k.f(), k.inputs().get())));
    }
}
