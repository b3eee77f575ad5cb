package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.DynamicQuant8;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.ScopeAllocator;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import dev.loraid.tensor.ViewOps;
import dev.loraid.tensor.cpu.gemm.Gemm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** The CPU backend: kernels on the Vector API, multi-threaded through {@link Parallel}. */
public final class CpuBackend implements Backend {
    private static final long ALIGN = 64;
    /** The Vector API is an incubator module: the JVM resolves it only when started with {@code --add-modules}. */
    private static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /**
     * Fails with the JVM flag to add when the Vector API is missing; {@link dev.loraid.tensor.Backends} calls it
     * before handing out this backend, so a JVM started without the flag fails at its first tensor, by name,
     * instead of with a {@code NoClassDefFoundError} inside the first kernel.
     */
    public static void requireVectorApi() {
        if (!VECTOR_API) {
            throw new IllegalStateException("loraid's CPU kernels need the Vector API, which this JVM was started "
                    + "without: add the JVM flag --add-modules jdk.incubator.vector (and --enable-native-access=ALL-UNNAMED)");
        }
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Storage allocate(long bytes) {
        MemoryScope scope = MemoryScope.current();
        if (scope != null) {
            return scope.allocate(this, bytes);
        }
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(bytes, 1), ALIGN).asSlice(0, bytes);
        return Storage.host(seg);
    }

    @Override
    public ScopeAllocator newScopeAllocator() {
        return new CpuScopeAllocator();
    }

    @Override
    public void synchronize() {
        // CPU kernels complete before they return
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        Checks.onCpu("copy", "src, dst", src, dst);
        StridedCopy.copy(src, dst);
    }

    @Override
    public void fill(Tensor dst, double value) {
        Checks.onCpu("fill", "dst", dst);
        StridedCopy.fill(dst, value);
    }

    @Override
    public void gatherRows(Tensor table, Tensor ids, Tensor out) {
        Checks.onCpu("gatherRows", "table, ids, out", table, ids, out);
        GatherRows.gather(table, ids, out);
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias) {
        Checks.onCpu("matmul", "a, b, c, bias", a, b, c, bias);
        Gemm.matmul(a, b, c, alpha, beta, bias);
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        Checks.onCpu("unary", "x, out", x, out);
        Elementwise.unary(op, x, out);
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor dOut, Tensor dx) {
        Checks.onCpu("unaryBackward", "x, dOut, dx", x, dOut, dx);
        Elementwise.unaryBackward(op, x, dOut, dx);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        Checks.onCpu("binary", "a, b, out", a, b, out);
        Elementwise.binary(op, a, b, out);
    }

    @Override
    public void binaryScalar(BinaryOp op, Tensor a, double scalar, Tensor out) {
        Checks.onCpu("binaryScalar", "a, out", a, out);
        Elementwise.binaryScalar(op, a, scalar, out);
    }

    @Override
    public void addScaled(Tensor a, double alpha, Tensor b, double beta, Tensor out) {
        Checks.onCpu("addScaled", "a, b, out", a, b, out);
        Elementwise.addScaled(a, alpha, b, beta, out);
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        Checks.onCpu("reduce", "x, out", x, out);
        Reductions.reduce(op, x, dims, out);
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        Checks.onCpu("softmax", "x, out", x, out);
        CpuSoftmax.forward(x, out);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        Checks.onCpu("softmaxBackward", "y, dy, dx", y, dy, dx);
        CpuSoftmax.backward(y, dy, dx);
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, double eps, Tensor out, Tensor mean, Tensor rstd) {
        Checks.onCpu("layerNorm", "x, weight, bias, out, mean, rstd", x, weight, bias, out, mean, rstd);
        Normalization.forward(true, x, weight, bias, eps, out, mean, rstd);
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dOut, Tensor dx,
                                  Tensor dWeight, Tensor dBias) {
        Checks.onCpu("layerNormBackward", "x, weight, mean, rstd, dOut, dx, dWeight, dBias", x, weight, mean, rstd, dOut, dx, dWeight, dBias);
        Normalization.backward(true, x, weight, mean, rstd, dOut, dx, dWeight, dBias);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, double eps, Tensor out, Tensor rstd) {
        Checks.onCpu("rmsNorm", "x, weight, out, rstd", x, weight, out, rstd);
        Normalization.forward(false, x, weight, null, eps, out, null, rstd);
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dOut, Tensor dx, Tensor dWeight) {
        Checks.onCpu("rmsNormBackward", "x, weight, rstd, dOut, dx, dWeight", x, weight, rstd, dOut, dx, dWeight);
        Normalization.backward(false, x, weight, null, rstd, dOut, dx, dWeight, null);
    }

    @Override
    public void rope(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out) {
        Checks.onCpu("rope", "x, cos, sin, out", x, cos, sin, out);
        CpuRope.apply(x, cos, sin, inverse, out);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, double scale, int[] kvLengths, Tensor out, Tensor lse) {
        Checks.onCpu("attention", "q, k, v, out, lse", q, k, v, out, lse);
        CpuAttention.forward(q, k, v, scale, kvLengths, out, lse);
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse, double scale,
                                  int[] kvLengths, Tensor dq, Tensor dk, Tensor dv) {
        Checks.onCpu("attentionBackward", "q, k, v, out, dOut, lse, dq, dk, dv", q, k, v, out, dOut, lse, dq, dk, dv);
        CpuAttention.backward(q, k, v, out, dOut, lse, scale, kvLengths, dq, dk, dv);
    }

    @Override
    public void attentionWithBias(Tensor q, Tensor k, Tensor v, Tensor bias, double scale, int[] kvLengths, Tensor out) {
        Checks.onCpu("attentionWithBias", "q, k, v, bias, out", q, k, v, bias, out);
        CpuAttention.forwardWithBias(q, k, v, bias, scale, kvLengths, out);
    }

    @Override
    public void conv3d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, Tensor out) {
        Checks.onCpu("conv3d", "x, weight, bias, out", x, weight, bias, out);
        Conv3d.forward(x, weight, bias, stride, padding, out);
    }

    @Override
    public void conv3dBackward(Tensor x, Tensor weight, Tensor dOut, int[] stride, int[] padding, Tensor dx,
                               Tensor dWeight, Tensor dBias) {
        Checks.onCpu("conv3dBackward", "x, weight, dOut, dx, dWeight, dBias", x, weight, dOut, dx, dWeight, dBias);
        Conv3dBackward.backward(x, weight, dOut, stride, padding, dx, dWeight, dBias);
    }

    @Override
    public void upsampleNearest(Tensor x, Tensor out) {
        Checks.onCpu("upsampleNearest", "x, out", x, out);
        ViewOps.upsampleNearest(this, x, out);
    }

    @Override
    public void pad(Tensor x, int[] before, Tensor out) {
        Checks.onCpu("pad", "x, out", x, out);
        ViewOps.pad(this, x, before, out);
    }

    @Override
    public void randomUniform(Tensor dst, long seed, long offset) {
        Checks.onCpu("randomUniform", "dst", dst);
        RandomFill.uniform(dst, seed, offset);
    }

    @Override
    public void randomNormal(Tensor dst, long seed, long offset) {
        Checks.onCpu("randomNormal", "dst", dst);
        RandomFill.normal(dst, seed, offset);
    }

    @Override
    public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2,
                            double eps, double weightDecay, long step) {
        Checks.onCpu("adamwUpdate", "param, grad, m, v", param, grad, m, v);
        CpuAdamW.update(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public void adamw8bitUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor absmaxM, Tensor absmaxV, Tensor mapM,
                                Tensor mapV, double lr, double beta1, double beta2, double eps, double weightDecay,
                                long step) {
        Checks.onCpu("adamw8bitUpdate", "param, grad, m, v, absmaxM, absmaxV, mapM, mapV", param, grad, m, v, absmaxM,
            absmaxV, mapM, mapV);
        DynamicQuant8.checkUpdate(param, grad, m, v, absmaxM, absmaxV, mapM, mapV, step);
        double correction2 = Math.sqrt(1 - Math.pow(beta2, step));
        double stepSize = -lr * correction2 / (1 - Math.pow(beta1, step));
        CpuAdamW8bit.update(param, grad, m, v, absmaxM, absmaxV, mapM, mapV, (float) beta1, (float) beta2, (float) eps,
            (float) lr, (float) weightDecay, (float) stepSize, (float) correction2);
    }
}
