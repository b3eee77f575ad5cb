package dev.loraid.tensor.cuda;

import dev.loraid.tensor.ConvGeometry;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Precision;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code Backend.conv3d} and its backward as the CPU runs them ({@link ConvGeometry}'s implicit GEMM): per tile of
 * output rows, our kernel (conv.cu) packs the input patches into a bounded column block in scratch — never the whole
 * im2col matrix — and cuBLASLt multiplies it with the weight through {@link CudaBackend#matmul}, which takes any
 * view and dtype. The backward packs the same tiles for dWeight (accumulated across tiles by the GEMM's beta = 1) and
 * scatters the patch gradients back (col2im, atomic adds) for dx.
 *
 * <p>Why this and not cuDNN's convolution or an implicit-GEMM kernel of our own: it was written without a GPU to run
 * it on, and every part but two plain index kernels is already tested on the GPU (the GEMM, copies, reductions),
 * while the pack and scatter index arithmetic is the CPU's, line for line.
 */
final class CudaConv {
    /** Column-block budget in elements (128 MiB of fp32): columns wide enough for cuBLASLt, bounded whatever the clip. */
    static final long TILE_ELEMENTS = 1L << 25;
    /** The kernels' {@code struct ConvGeom}: 16 ints. */
    static final long GEOMETRY_BYTES = 16L * 4;

    private final CudaBackend b;

    CudaConv(CudaBackend backend) {
        this.b = backend;
    }

    /**
     * The dtype of a GEMM operand packed from (or cast from) {@code a} when the other operand is {@code other}: F64 for
     * an fp64 call; a's 16-bit type when both are that type (the pack is exact and cuBLASLt runs it on tensor cores with
     * fp32 accumulation); otherwise F32, which holds every other float dtype exactly.
     */
    static DType gemmType(DType a, DType other, boolean fp64) {
        if (fp64) {
            return DType.F64;
        }
        return a == other && (a == DType.BF16 || a == DType.F16) ? a : DType.F32;
    }

    /** The kernels' {@code struct ConvGeom} for {@code g} (conv.cu): sizes, kernel, strides, padding, output sizes. */
    static MemorySegment pack(Arena arena, ConvGeometry g) {
        int[] v = {g.i(), g.t(), g.h(), g.w(), g.kt(), g.kh(), g.kw(), g.st(), g.sh(), g.sw(), g.front(), g.top(),
            g.left(), g.to(), g.ho(), g.wo()};
        MemorySegment s = arena.allocate(GEOMETRY_BYTES, 4);
        for (int i = 0; i < v.length; i++) {
            s.setAtIndex(ValueLayout.JAVA_INT, i, v[i]);
        }
        return s;
    }

    /** A contiguous [rows, cols] view of the front of a flat scratch block. */
    static Tensor matrix(Tensor flat, long rows, long cols) {
        return flat.narrow(0, 0, rows * cols).view(rows, cols);
    }

    /** {@code t} in {@code dtype} as a contiguous [rows, cols] matrix: t itself when it already is one, else a copy. */
    private Tensor asMatrix(Tensor t, DType dtype, long rows, long cols, CudaScratch s) {
        if (t.dtype() == dtype && t.isContiguous()) {
            return t.view(rows, cols);
        }
        Tensor m = s.tensor(dtype, t.shape().toArray());
        b.copy(t, m);
        return m.view(rows, cols);
    }

    /** Packs flattened output rows [r0, r0 + rows) of sample n of x into {@code cols} [K, rows·Wo] (contiguous). */
    private void packTile(Tensor x, int n, ConvGeometry g, long r0, int rows, Tensor cols) {
        long p = (long) rows * g.wo();
        String variant = cols.dtype() == DType.F64 ? "f64" : "f32";
        b.kernels().launch1d("conv", "conv_pack_" + variant, (long) g.k() * p, a -> a
            .struct(CudaLayout.pack(a.arena(), x)).ptr(b.pointer(x)).struct(pack(a.arena(), g))
            .i64(n).i64(r0).i64(p).ptr(b.pointer(cols)).i32(CudaLayout.code(cols.dtype())));
    }

    void forward(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, Tensor out) {
        forward(x, weight, bias, stride, padding, out, TILE_ELEMENTS);
    }

    /** With a column-block budget of {@code tileElements} values (GPU tests use tiny ones, for many tiles). */
    void forward(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, Tensor out, long tileElements) {
        ConvGeometry g = ConvGeometry.of(x, weight, bias, stride, padding, out);
        if (out.numel() == 0) {
            return;
        }
        boolean fp64 = Precision.fp64(x, weight, bias, out);
        DType colsType = gemmType(x.dtype(), weight.dtype(), fp64);
        DType wType = gemmType(weight.dtype(), x.dtype(), fp64);
        int rowsPerTile = g.rowsPerTile(tileElements);
        try (CudaScratch s = b.scratch()) {
            Tensor w2 = asMatrix(weight, wType, g.o(), g.k(), s);
            Tensor cols = s.tensor(colsType, (long) g.k() * rowsPerTile * g.wo());
            // an output whose positions do not flatten to one stride is computed contiguous and copied back
            boolean merged = g.positionsMerge(out);
            Tensor target = merged ? out : s.tensor(out.dtype(), out.shape().toArray());
            double beta = 0;
            if (bias != null) { // the bias broadcast into the output first, then the GEMMs add onto it (beta = 1)
                b.copy(ConvGeometry.channelView(bias, target.shape().toArray()), target);
                beta = 1;
            }
            for (int n = 0; n < g.n(); n++) {
                Tensor sample = target.select(0, n);
                for (long r0 = 0; r0 < g.rows(); r0 += rowsPerTile) {
                    int rows = (int) Math.min(rowsPerTile, g.rows() - r0);
                    Tensor c = matrix(cols, g.k(), (long) rows * g.wo());
                    packTile(x, n, g, r0, rows, c);
                    b.matmul(w2, c, g.tile(sample, r0, rows), 1, beta, null);
                }
            }
            if (!merged) {
                b.copy(target, out);
            }
        }
    }

    void backward(Tensor x, Tensor weight, Tensor dOut, int[] stride, int[] padding, Tensor dx, Tensor dWeight,
                  Tensor dBias) {
        backward(x, weight, dOut, stride, padding, dx, dWeight, dBias, TILE_ELEMENTS);
    }

    /**
     * With w2 the weight as [O, K] and g a tile of dOut as [O, P]: dWeight [O, K] += g · colsᵀ over the tiles (cols the
     * tile's patches, packed as in the forward), dCols [K, P] = w2ᵀ · g scattered into dx, dBias = Σ dOut over N, T, H,
     * W. Each output is overwritten; a null one is not computed.
     */
    void backward(Tensor x, Tensor weight, Tensor dOut, int[] stride, int[] padding, Tensor dx, Tensor dWeight,
                  Tensor dBias, long tileElements) {
        ConvGeometry g = ConvGeometry.ofBackward(x, weight, dOut, stride, padding, dx, dWeight, dBias);
        if (dBias != null) {
            b.reduce(ReduceOp.SUM, dOut, new int[] {0, 2, 3, 4}, ConvGeometry.channelView(dBias));
        }
        if (dx == null && dWeight == null) {
            return;
        }
        if (g.n() == 0) {
            if (dWeight != null) {
                b.fill(dWeight, 0);
            }
            return;
        }
        boolean fp64 = Precision.fp64(x, weight, dOut, dx, dWeight, dBias);
        DType acc = fp64 ? DType.F64 : DType.F32;
        String variant = fp64 ? "f64" : "f32";
        int rowsPerTile = g.rowsPerTile(tileElements);
        long tileCols = (long) rowsPerTile * g.wo();
        boolean merged = g.positionsMerge(dOut);
        try (CudaScratch s = b.scratch()) {
            Tensor dW = null;
            Tensor cols = null;
            if (dWeight != null) {
                dW = dWeight.dtype() == acc && dWeight.isContiguous() ? dWeight.view(g.o(), g.k()) : s.tensor(acc, g.o(), g.k());
                b.fill(dW, 0);
                cols = s.tensor(gemmType(x.dtype(), dOut.dtype(), fp64), g.k() * tileCols);
            }
            Tensor w2 = null;
            Tensor dCols = null;
            Tensor dxScratch = null;
            if (dx != null) {
                w2 = asMatrix(weight, gemmType(weight.dtype(), dOut.dtype(), fp64), g.o(), g.k(), s);
                dCols = s.tensor(acc, g.k() * tileCols);
                // the scatter adds into a contiguous accumulator of the math type: dx itself when it is one
                dxScratch = dx.dtype() == acc && dx.select(0, 0).isContiguous() ? null : s.tensor(acc, g.i(), g.t(), g.h(), g.w());
            }
            Tensor gScratch = merged ? null : s.tensor(dOut.dtype(), g.o(), g.to(), g.ho(), g.wo());
            for (int n = 0; n < g.n(); n++) {
                Tensor gN = dOut.select(0, n);
                if (!merged) {
                    b.copy(gN, gScratch);
                    gN = gScratch;
                }
                Tensor dxN = dx == null ? null : dxScratch != null ? dxScratch : dx.select(0, n);
                if (dxN != null) {
                    b.fill(dxN, 0);
                }
                for (long r0 = 0; r0 < g.rows(); r0 += rowsPerTile) {
                    int rows = (int) Math.min(rowsPerTile, g.rows() - r0);
                    long p = (long) rows * g.wo();
                    Tensor gTile = g.tile(gN, r0, rows);
                    if (dW != null) {
                        Tensor c = matrix(cols, g.k(), p);
                        packTile(x, n, g, r0, rows, c);
                        b.matmul(gTile, c.transpose(0, 1), dW, 1, 1, null);
                    }
                    if (dxN != null) {
                        Tensor d = matrix(dCols, g.k(), p);
                        b.matmul(w2.transpose(0, 1), gTile, d, 1, 0, null);
                        Tensor into = dxN;
                        long start = r0;
                        b.kernels().launch1d("conv", "conv_scatter_" + variant, g.k() * p, a -> a
                            .ptr(b.pointer(d)).struct(pack(a.arena(), g)).i64(start).i64(p).ptr(b.pointer(into)));
                    }
                }
                if (dxScratch != null) {
                    b.copy(dxScratch, dx.select(0, n));
                }
            }
            if (dW != null && dW.storage() != dWeight.storage()) {
                b.copy(dW.view(weight.shape().toArray()), dWeight);
            }
        }
    }
}
