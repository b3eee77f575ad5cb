package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.ScopeAllocator;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import dev.loraid.tensor.cpu.gemm.Gemm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** The CPU backend: kernels on the Vector API, multi-threaded through {@link Parallel}. */
public final class CpuBackend implements Backend {
    private static final long ALIGN = 64;

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
        requireCpu(src, "copy source");
        requireCpu(dst, "copy destination");
        Tensor s = src.shape().equals(dst.shape()) ? src : src.expand(dst.shape());
        long n = dst.numel();
        long[] dims = dst.shape().toArray();
        MemorySegment in = s.storage().segment();
        MemorySegment out = dst.storage().segment();
        DType ti = s.dtype();
        DType to = dst.dtype();
        long[] ss = s.strides();
        long[] ds = dst.strides();
        boolean exactInts = !ti.isFloatingPoint() && !to.isFloatingPoint();
        Parallel.forRange(n, 4, (from, to_) -> {
            long[] idx = unravel(from, dims);
            for (long i = from; i < to_; i++) {
                long si = s.offset();
                long di = dst.offset();
                for (int d = 0; d < dims.length; d++) {
                    si += idx[d] * ss[d];
                    di += idx[d] * ds[d];
                }
                if (exactInts) {
                    to.writeLong(out, di * to.byteSize(), ti.readLong(in, si * ti.byteSize()));
                } else {
                    to.write(out, di * to.byteSize(), ti.read(in, si * ti.byteSize()));
                }
                increment(idx, dims);
            }
        });
    }

    @Override
    public void fill(Tensor dst, double value) {
        requireCpu(dst, "fill destination");
        Tensor one = Tensor.ofDoubles(new double[] {value}, new long[0]);
        copy(one, dst);
    }

    static long[] unravel(long linear, long[] dims) {
        long[] idx = new long[dims.length];
        for (int d = dims.length - 1; d >= 0; d--) {
            if (dims[d] > 0) {
                idx[d] = linear % dims[d];
                linear /= dims[d];
            }
        }
        return idx;
    }

    static void increment(long[] idx, long[] dims) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < dims[d]) {
                return;
            }
            idx[d] = 0;
        }
    }

    static void requireCpu(Tensor t, String what) {
        if (!t.device().isCpu()) {
            throw new IllegalArgumentException(what + " is on " + t.device() + ", expected cpu");
        }
    }

    private static UnsupportedOperationException pending(String op) {
        return new UnsupportedOperationException("CPU kernel '" + op + "' is not implemented yet");
    }

    @Override
    public void gatherRows(Tensor table, Tensor ids, Tensor out) {
        throw pending("gatherRows");
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias) {
        Gemm.matmul(a, b, c, alpha, beta, bias);
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        throw pending("unary");
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor dOut, Tensor dx) {
        throw pending("unaryBackward");
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        throw pending("binary");
    }

    @Override
    public void binaryScalar(BinaryOp op, Tensor a, double scalar, Tensor out) {
        throw pending("binaryScalar");
    }

    @Override
    public void addScaled(Tensor a, double alpha, Tensor b, double beta, Tensor out) {
        throw pending("addScaled");
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        throw pending("reduce");
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        throw pending("softmax");
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        throw pending("softmaxBackward");
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, double eps, Tensor out, Tensor mean, Tensor rstd) {
        throw pending("layerNorm");
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dOut, Tensor dx,
                                  Tensor dWeight, Tensor dBias) {
        throw pending("layerNormBackward");
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, double eps, Tensor out, Tensor rstd) {
        throw pending("rmsNorm");
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dOut, Tensor dx, Tensor dWeight) {
        throw pending("rmsNormBackward");
    }

    @Override
    public void rope(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out) {
        throw pending("rope");
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, double scale, int[] kvLengths, Tensor out, Tensor lse) {
        throw pending("attention");
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse, double scale,
                                  int[] kvLengths, Tensor dq, Tensor dk, Tensor dv) {
        throw pending("attentionBackward");
    }

    @Override
    public void randomUniform(Tensor dst, long seed, long offset) {
        throw pending("randomUniform");
    }

    @Override
    public void randomNormal(Tensor dst, long seed, long offset) {
        throw pending("randomNormal");
    }

    @Override
    public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2,
                            double eps, double weightDecay, long step) {
        throw pending("adamwUpdate");
    }
}
