package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * Data movement on the device (copy.cu): copies (a plain memcpy when dtypes match and both sides are contiguous,
 * else the casting, broadcasting {@code copy_cast}), fill and the row gather. Host ⇄ device copies are
 * {@link CudaTransfers}'.
 */
final class CudaCopies {
    private final CudaBackend b;
    private final CudaElementwise elementwise;

    CudaCopies(CudaBackend backend, CudaElementwise elementwise) {
        this.b = backend;
        this.elementwise = elementwise;
    }

    /** A device → device copy; dst is not empty. */
    void copy(Tensor src, Tensor dst) {
        Tensor s = src.shape().equals(dst.shape()) ? src : src.expand(dst.shape());
        if (s.dtype() == dst.dtype() && s.isContiguous() && dst.isContiguous()) {
            long bytes = dst.numel() * dst.dtype().byteSize();
            CudaContext ctx = b.context();
            CudaProfile.time(ctx, "memcpy device→device", () -> ctx.driver().copyDeviceToDevice(b.pointer(dst),
                b.pointer(s), bytes, ctx.stream()));
            return;
        }
        elementwise.copyCast(s, dst);
    }

    void fill(Tensor dst, double value) {
        long[][] l = CudaLayout.coalesce(dst.shape().toArray(), dst.strides());
        b.kernels().launch1d("copy", "fill_value", dst.numel(), a -> a
            .struct(CudaLayout.pack(a.arena(), l[0], l[1], dst.dtype())).ptr(b.pointer(dst)).i64(dst.numel())
            .f64(value).i64((long) value));
    }

    /** Waits for the stream: a bad id is reported by the kernel into a flag that is read back. */
    void gatherRows(Tensor table, Tensor ids, Tensor out) {
        if (table.rank() != 2 || ids.rank() != 1 || out.rank() != 2 || out.size(0) != ids.size(0)
            || out.size(1) != table.size(1)) {
            throw new IllegalArgumentException("gatherRows: expected table [V, D], ids [N], out [N, D], got "
                + table.shape() + ", " + ids.shape() + ", " + out.shape());
        }
        try (CudaScratch s = b.scratch()) {
            Tensor err = s.tensor(DType.I64, 2);
            fill(err, 0);
            b.kernels().launch1d("copy", "gather_rows", out.numel(), a -> a
                .struct(CudaLayout.pack(a.arena(), table)).struct(CudaLayout.pack(a.arena(), ids))
                .struct(CudaLayout.pack(a.arena(), out)).ptr(b.pointer(table)).ptr(b.pointer(ids)).ptr(b.pointer(out))
                .ptr(b.pointer(err)));
            long[] e = longs(err);
            if (e[0] != 0) {
                throw new IndexOutOfBoundsException("gatherRows: id " + e[1] + " is outside the table's "
                    + table.size(0) + " rows");
            }
        }
    }

    private long[] longs(Tensor deviceI64) {
        Tensor h = b.transfers().download(deviceI64);
        long[] out = new long[(int) h.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = h.getLong(i);
        }
        return out;
    }
}
