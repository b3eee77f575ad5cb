package dev.loraid.tensor.cuda;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Elementwise ops on the device (elementwise.cu, and copy.cu's {@code copy_cast}): one launcher over {@code out}'s
 * shape with the inputs broadcast to it, taking the vectorized {@code _vec} kernels (see {@link VecLaunch}) when
 * the call computes in fp32 and the layouts allow 16-byte access, the strided kernels otherwise.
 */
final class CudaElementwise {
    private final CudaBackend b;

    CudaElementwise(CudaBackend backend) {
        this.b = backend;
    }

    void unary(UnaryOp op, Tensor x, Tensor out) {
        launch("elementwise", "unary_" + CudaKernels.variant(x, out), out, a -> a.i32(op.ordinal()), x);
    }

    void unaryBackward(UnaryOp op, Tensor x, Tensor dOut, Tensor dx) {
        launch("elementwise", "unary_backward_" + CudaKernels.variant(x, dOut, dx), dx, a -> a.i32(op.ordinal()), x, dOut);
    }

    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        launch("elementwise", "binary_" + CudaKernels.variant(a, b, out), out, k -> k.i32(op.ordinal()), a, b);
    }

    void binaryScalar(BinaryOp op, Tensor a, double scalar, Tensor out) {
        launch("elementwise", "binary_scalar_" + CudaKernels.variant(a, out), out, k -> k.i32(op.ordinal()).f64(scalar), a);
    }

    void addScaled(Tensor a, double alpha, Tensor b, double beta, Tensor out) {
        launch("elementwise", "add_scaled_" + CudaKernels.variant(a, b, out), out, k -> k.f64(alpha).f64(beta), a, b);
    }

    /** {@code dst = cast(src)} on the device, src already expanded to dst's shape. */
    void copyCast(Tensor src, Tensor dst) {
        launch("copy", "copy_cast", dst, a -> { }, src);
    }

    /**
     * Launches {@code name} (strided layouts) over {@code out} and {@code ins}, or its {@code _vec} twin (see
     * {@link VecLaunch}) when the call is an fp32-math one ({@code name} ends in {@code _f32}, or a copy between
     * F32/BF16/F16) and the layouts allow 16-byte access. Strided arguments are the Layouts of ins then out, their
     * pointers in the same order, the element count, then {@code extra}.
     */
    private void launch(String source, String name, Tensor out, Consumer<KernelArgs> extra, Tensor... ins) {
        long[] dims = out.shape().toArray();
        long[][] strides = new long[ins.length + 1][];
        Tensor[] all = new Tensor[ins.length + 1];
        for (int i = 0; i < ins.length; i++) {
            all[i] = ins[i].shape().equals(out.shape()) ? ins[i] : ins[i].expand(out.shape());
            strides[i] = all[i].strides();
        }
        all[ins.length] = out;
        strides[ins.length] = out.strides();
        long[][] l = CudaLayout.coalesce(dims, strides);
        long n = out.numel();
        if (n == 0) {
            return;
        }
        long[] pointers = new long[all.length];
        for (int i = 0; i < all.length; i++) {
            pointers[i] = b.pointer(all[i]);
        }
        boolean fp32Math = name.endsWith("_f32") || name.equals("copy_cast")
            && VecLaunch.floatExact(ins[0].dtype()) && VecLaunch.floatExact(out.dtype());
        VecLaunch vec = fp32Math ? VecLaunch.of(l[0], Arrays.copyOfRange(l, 1, l.length), all, pointers) : null;
        if (vec != null) {
            String vecName = (name.endsWith("_f32") ? name.substring(0, name.length() - 4) : name) + "_vec";
            long groups = n / VecLaunch.WIDTH;
            b.kernels().launch1d(source, vecName, groups, a -> {
                for (int i = 0; i < ins.length; i++) {
                    a.ptr(pointers[i]).i32(CudaLayout.code(all[i].dtype())).i32(vec.modes()[i]);
                }
                a.ptr(pointers[ins.length]).i32(CudaLayout.code(out.dtype())).i64(n).i64(vec.rowLen());
                extra.accept(a);
            });
            return;
        }
        b.kernels().launch1d(source, name, n, a -> {
            for (int i = 0; i < all.length; i++) {
                a.struct(CudaLayout.pack(a.arena(), l[0], l[i + 1], all[i].dtype()));
            }
            for (long p : pointers) {
                a.ptr(p);
            }
            a.i64(n);
            extra.accept(a);
        });
    }
}
