package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Tensor;

/**
 * Rotary embedding (rope.cu, spec wan.md §2.8): the cos/sin tables are staged as contiguous tensors of the compute
 * dtype; contiguous fp32-math calls with D a multiple of 8 take {@code rope_vec} (8 elements a thread).
 */
final class CudaRope {
    private final CudaBackend b;

    CudaRope(CudaBackend backend) {
        this.b = backend;
    }

    void apply(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out) {
        if (x.rank() < 3 || x.size(-1) % 2 != 0 || cos.numel() != x.size(-3) * (x.size(-1) / 2)) {
            throw new IllegalArgumentException("rope: expected x [..., L, H, D] with D even and cos/sin [L, D/2], got x "
                + x.shape() + ", cos " + cos.shape());
        }
        DType t = Precision.computeType(x, cos, sin, out);
        String v = CudaKernels.variant(x, cos, sin, out);
        try (CudaScratch s = b.scratch()) {
            Tensor c = cos.dtype() == t && cos.isContiguous() ? cos : s.tensor(t, cos.shape().toArray());
            Tensor sn = sin.dtype() == t && sin.isContiguous() ? sin : s.tensor(t, sin.shape().toArray());
            if (c != cos) {
                b.copy(cos, c);
            }
            if (sn != sin) {
                b.copy(sin, sn);
            }
            long n = x.numel();
            int d = (int) x.size(-1);
            if (v.equals("f32") && d % VecLaunch.WIDTH == 0 && x.isContiguous() && out.isContiguous()
                && VecLaunch.floatExact(x.dtype()) && VecLaunch.floatExact(out.dtype())
                && (b.pointer(x) | b.pointer(out) | b.pointer(c) | b.pointer(sn)) % 16 == 0) {
                b.kernels().launch1d("rope", "rope_vec", n / VecLaunch.WIDTH, a -> a
                    .ptr(b.pointer(x)).i32(CudaLayout.code(x.dtype())).ptr(b.pointer(out))
                    .i32(CudaLayout.code(out.dtype())).ptr(b.pointer(c)).ptr(b.pointer(sn)).i64(n).i32(d)
                    .i32((int) x.size(-2)).i64(x.size(-3)).i32(inverse ? 1 : 0));
                return;
            }
            long pairs = n / 2;
            b.kernels().launch1d("rope", "rope_" + v, pairs, a -> a
                .struct(CudaLayout.pack(a.arena(), x)).struct(CudaLayout.pack(a.arena(), out))
                .ptr(b.pointer(x)).ptr(b.pointer(out)).ptr(b.pointer(c)).ptr(b.pointer(sn)).i64(pairs)
                .i32(inverse ? 1 : 0));
        }
    }
}
