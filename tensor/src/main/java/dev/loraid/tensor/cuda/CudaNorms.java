package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * LayerNorm and RMSNorm on the device (norm.cu): row kernels for the forward pass and dx, and a column-sum kernel
 * for dWeight/dBias that accumulates into an fp32 (fp64) buffer before the cast into the caller's dtype. The
 * statistics travel as contiguous F32 [rows]; other layouts are staged through scratch.
 */
final class CudaNorms {
    private final CudaBackend b;

    CudaNorms(CudaBackend backend) {
        this.b = backend;
    }

    private static long rows(Tensor x) {
        return x.numel() / Math.max(1, x.size(-1));
    }

    /** t when it is contiguous F32, else a scratch tensor (copied from t when {@code load}). */
    private Tensor stats(Tensor t, long rows, CudaScratch s, boolean load) {
        if (t == null) {
            return null;
        }
        if (t.numel() != rows) {
            throw new IllegalArgumentException("norm statistics need " + rows + " elements (one per row), got " + t.shape());
        }
        if (t.dtype() == DType.F32 && t.isContiguous()) {
            return t;
        }
        Tensor tmp = s.tensor(DType.F32, rows);
        if (load) {
            b.copy(t.reshape(rows), tmp);
        }
        return tmp;
    }

    private static Tensor vector(Tensor t, long d, String what) {
        if (t != null && t.numel() != d) {
            throw new IllegalArgumentException(what + " must have " + d + " elements (the last dimension), got " + t.shape());
        }
        return t == null ? null : t.reshape(d);
    }

    void forward(Tensor x, Tensor weight, Tensor bias, double eps, Tensor out, Tensor mean, Tensor rstd, boolean rms) {
        long rows = rows(x);
        long d = x.size(-1);
        Tensor w = vector(weight, d, "norm weight");
        Tensor bi = vector(bias, d, "norm bias");
        try (CudaScratch s = b.scratch()) {
            Tensor m = stats(mean, rows, s, false);
            Tensor r = stats(rstd, rows, s, false);
            String v = CudaKernels.variant(x, w, bi, out);
            if (v.equals("f32") && registerRows(d) && rowsInRegisters(x, out) && vectorOk(w) && vectorOk(bi)) {
                b.kernels().launchRows("norm", "layer_norm_vec", rows, a -> a
                    .ptr(b.pointer(x)).i32(CudaLayout.code(x.dtype())).i64(rowStride(x))
                    .ptr(b.pointerOrNull(w)).i32(w == null ? 0 : CudaLayout.code(w.dtype()))
                    .ptr(b.pointerOrNull(bi)).i32(bi == null ? 0 : CudaLayout.code(bi.dtype()))
                    .ptr(b.pointer(out)).i32(CudaLayout.code(out.dtype())).i64(rowStride(out))
                    .ptr(b.pointerOrNull(m)).ptr(b.pointerOrNull(r)).i64(rows).i32((int) d).f64(eps).i32(rms ? 1 : 0));
                copyStats(m, mean, r, rstd);
                return;
            }
            Tensor layoutW = w != null ? w : x; // any layout: the kernel skips a null weight
            b.kernels().launchRows("norm", "layer_norm_" + v, rows, a -> a
                .struct(CudaLayout.pack(a.arena(), x)).struct(CudaLayout.pack(a.arena(), layoutW))
                .struct(CudaLayout.pack(a.arena(), bi != null ? bi : layoutW)).struct(CudaLayout.pack(a.arena(), out))
                .ptr(b.pointer(x)).ptr(b.pointerOrNull(w)).ptr(b.pointerOrNull(bi)).ptr(b.pointer(out))
                .ptr(b.pointerOrNull(m)).ptr(b.pointerOrNull(r)).i64(rows).f64(eps).i32(rms ? 1 : 0));
            copyStats(m, mean, r, rstd);
        }
    }

    /** The statistics into the caller's tensors when they were staged through scratch. */
    private void copyStats(Tensor m, Tensor mean, Tensor r, Tensor rstd) {
        if (m != mean) {
            b.copy(m.reshape(mean.shape().toArray()), mean);
        }
        if (r != rstd) {
            b.copy(r.reshape(rstd.shape().toArray()), rstd);
        }
    }

    /** Rows short enough for layer_norm_vec's registers (256 threads × 8 elements × NORM_VEC_GROUPS). */
    private static boolean registerRows(long d) {
        return d % VecLaunch.WIDTH == 0 && d <= 256L * VecLaunch.WIDTH * 4;
    }

    /**
     * The element step between consecutive rows when every row is unit-stride and the rows are evenly spaced
     * (the leading dimensions coalesce into one), else -1.
     */
    static long rowStride(Tensor t) {
        int r = t.rank();
        if (r == 0 || t.stride(r - 1) != 1 && t.size(r - 1) != 1) {
            return -1;
        }
        long[] dims = java.util.Arrays.copyOf(t.shape().toArray(), r - 1);
        long[][] lead = CudaLayout.coalesce(dims, java.util.Arrays.copyOf(t.strides(), r - 1));
        return lead[0].length == 0 ? t.size(r - 1) : lead[0].length == 1 ? lead[1][0] : -1;
    }

    /** Every tensor is F32/BF16/F16 with evenly spaced unit-stride rows starting on 16-byte boundaries. */
    private boolean rowsInRegisters(Tensor... ts) {
        for (Tensor t : ts) {
            long stride = rowStride(t);
            if (!VecLaunch.floatExact(t.dtype()) || stride < 0 || b.pointer(t) % 16 != 0
                || stride * t.dtype().byteSize() % 16 != 0) {
                return false;
            }
        }
        return true;
    }

    /** An absent weight/bias, or a unit-stride one starting on a 16-byte boundary. */
    private boolean vectorOk(Tensor t) {
        return t == null || t.stride(0) == 1 && VecLaunch.floatExact(t.dtype()) && b.pointer(t) % 16 == 0;
    }

    void backward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dOut, Tensor dx, Tensor dWeight,
                  Tensor dBias, boolean rms) {
        long rows = rows(x);
        long d = x.size(-1);
        Tensor w = vector(weight, d, "norm weight");
        if (rstd == null || (!rms && mean == null)) {
            throw new IllegalArgumentException("norm backward needs the forward's " + (rms ? "rstd" : "mean and rstd"));
        }
        try (CudaScratch s = b.scratch()) {
            Tensor m = rms ? null : stats(mean, rows, s, true);
            Tensor r = stats(rstd, rows, s, true);
            String v = CudaKernels.variant(x, weight, dOut, dx, dWeight, dBias);
            if (v.equals("f32") && registerRows(d) && rowsInRegisters(x, dOut, dx) && vectorOk(w)) {
                b.kernels().launchRows("norm", "layer_norm_backward_vec", rows, a -> a
                    .ptr(b.pointer(x)).i32(CudaLayout.code(x.dtype())).i64(rowStride(x))
                    .ptr(b.pointerOrNull(w)).i32(w == null ? 0 : CudaLayout.code(w.dtype()))
                    .ptr(b.pointerOrNull(m)).ptr(b.pointer(r))
                    .ptr(b.pointer(dOut)).i32(CudaLayout.code(dOut.dtype())).i64(rowStride(dOut))
                    .ptr(b.pointer(dx)).i32(CudaLayout.code(dx.dtype())).i64(rowStride(dx))
                    .i64(rows).i32((int) d).i32(rms ? 1 : 0));
            } else {
                Tensor layoutW = w != null ? w : x;
                b.kernels().launchRows("norm", "layer_norm_backward_" + v, rows, a -> a
                    .struct(CudaLayout.pack(a.arena(), x)).struct(CudaLayout.pack(a.arena(), layoutW))
                    .struct(CudaLayout.pack(a.arena(), dOut)).struct(CudaLayout.pack(a.arena(), dx))
                    .ptr(b.pointer(x)).ptr(b.pointerOrNull(w)).ptr(b.pointerOrNull(m)).ptr(b.pointer(r))
                    .ptr(b.pointer(dOut)).ptr(b.pointer(dx)).i64(rows).i32(rms ? 1 : 0));
            }
            if (dWeight == null && dBias == null) {
                return;
            }
            DType acc = v.equals("f64") ? DType.F64 : DType.F32;
            Tensor accW = dWeight == null ? null : s.tensor(acc, d);
            Tensor accB = dBias == null ? null : s.tensor(acc, d);
            for (Tensor t : new Tensor[] {accW, accB}) {
                if (t != null) {
                    b.fill(t, 0);
                }
            }
            int gx = (int) ((d + 31) / 32);
            int gy = (int) Math.max(1, Math.min((rows + 7) / 8, Math.max(1, 4L * b.context().multiprocessors() / gx)));
            b.kernels().launch("norm", "norm_param_grads_" + v, gx, gy, 32, 8, 0, a -> a
                .struct(CudaLayout.pack(a.arena(), x)).struct(CudaLayout.pack(a.arena(), dOut))
                .ptr(b.pointer(x)).ptr(b.pointer(dOut)).ptr(b.pointerOrNull(m)).ptr(b.pointer(r))
                .ptr(b.pointerOrNull(accW)).ptr(b.pointerOrNull(accB)).i64(rows));
            if (dWeight != null) {
                b.copy(accW.reshape(dWeight.shape().toArray()), dWeight);
            }
            if (dBias != null) {
                b.copy(accB.reshape(dBias.shape().toArray()), dBias);
            }
        }
    }
}
