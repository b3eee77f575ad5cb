package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static dev.loraid.tensor.cuda.CuDnn.*;

/**
 * Attention on cuDNN 9's runtime-fused flash attention: the SDPA graphs cudnn-frontend builds
 * ({@code node/scaled_dot_product_flash_attention.h}, composite forward and backward, no mask, no dropout), built
 * through the backend API and cached per (dtype, shapes, strides, pointer alignment, scale). A graph cuDNN declines
 * (build, heuristics or execute) is remembered for its key and reported as not taken, so the caller falls back.
 *
 * <p>Stats: the forward's softmax statistics are {@code max + log(Σ exp(S − max))} over {@code S = scale·QKᵀ} in fp32,
 * [B, H, Lq, 1]: exactly Backend's lse contract (natural-log logsumexp of the scaled scores), so the lse of this path
 * and of the kernels are interchangeable.
 */
final class CudnnAttention {
    private static final System.Logger LOG = System.getLogger(CudnnAttention.class.getName());

    private final CudaBackend b;
    private final CuDnn dnn;
    private final MemorySegment handle;
    /** Per key: the built graph, or the String message of why cuDNN declined it. */
    private final Map<String, Object> plans = new HashMap<>();

    private CudnnAttention(CudaBackend b, CuDnn dnn) {
        this.b = b;
        this.dnn = dnn;
        b.context().bind();
        this.handle = dnn.createHandle(b.context().stream());
    }

    /** cuDNN on this backend's context and stream; throws when libcudnn is missing or refuses a handle. */
    static CudnnAttention load(CudaBackend b) {
        CuDnn dnn = CuDnn.load(CudaLibraries.fromEnvironment());
        long version = dnn.version();
        if (version < 90000) {
            throw new CudaException("cuDNN " + version + " found; the CUDNN attention path needs cuDNN 9 (>= 90000)");
        }
        CudnnAttention a = new CudnnAttention(b, dnn);
        LOG.log(System.Logger.Level.INFO, "CUDNN attention path: cuDNN " + version);
        return a;
    }

    /**
     * Whether cuDNN's SDPA graphs may take these inputs (before asking cuDNN): q, k, v, out (and the backward's
     * tensors) all BF16 or all F16, D == Dv, D a multiple of 8 up to 128, unit stride along D, no key lengths.
     */
    static boolean eligible(int[] kvLengths, Tensor q, Tensor... others) {
        DType t = q.dtype();
        if ((t != DType.BF16 && t != DType.F16) || kvLengths != null) {
            return false;
        }
        long d = q.size(3);
        if (d % 8 != 0 || d > 128 || q.stride(3) != 1) {
            return false;
        }
        for (Tensor o : others) {
            if (o.dtype() != t || o.size(3) != d || o.stride(3) != 1) {
                return false;
            }
        }
        return true;
    }

    private static int dataType(DType t) {
        return t == DType.BF16 ? DATA_BFLOAT16 : DATA_HALF;
    }

    private long alignment(Tensor t) {
        long addr = b.pointer(t);
        return addr == 0 ? 16 : Math.min(16, Long.lowestOneBit(addr));
    }

    private String key(String kind, double scale, Tensor... ts) {
        StringBuilder sb = new StringBuilder(kind).append(" scale=").append(Double.doubleToLongBits(scale));
        for (Tensor t : ts) {
            sb.append(' ').append(t.dtype()).append(t.shape()).append(Arrays.toString(t.strides()))
                .append('@').append(alignment(t));
        }
        return sb.toString();
    }

    private static long[] dims(Tensor t) {
        return t.shape().toArray();
    }

    /** The [B, H, D, L] view's dims and strides of a [B, H, L, D] tensor (K → Kᵀ, V → Vᵀ, as the graphs take them). */
    private static long[] swap23(long[] a) {
        return new long[] {a[0], a[1], a[3], a[2]};
    }

    private CudnnGraph.Node io(CudnnGraph g, String name, Tensor t, boolean transposed) {
        long[] d = dims(t);
        long[] s = t.strides();
        return g.tensor(name, dataType(t.dtype()), transposed ? swap23(d) : d, transposed ? swap23(s) : s,
            alignment(t), false, false);
    }

    private static CudnnGraph.Node stats(CudnnGraph g, String name, long bb, long h, long lq, boolean virtual) {
        return g.tensor(name, DATA_FLOAT, new long[] {bb, h, lq, 1}, new long[] {h * lq, lq, 1, 1}, 16, virtual, false);
    }

    /** A built graph with its tensors' UIDs in variant-pack order. */
    private record Plan(CudnnGraph graph, long[] uids, MemorySegment[] hostValues) {
    }

    /** The cached plan of {@code key}, building it on first use; null when cuDNN declined it (now or before). */
    private Plan plan(String key, java.util.function.Function<CudnnGraph, Plan> build) {
        Object cached = plans.get(key);
        if (cached instanceof Plan p) {
            return p;
        }
        if (cached != null) {
            return null;
        }
        CudnnGraph g = new CudnnGraph(dnn, handle, "cuDNN SDPA " + key);
        try {
            Plan p = build.apply(g);
            g.build();
            plans.put(key, p);
            return p;
        } catch (RuntimeException e) { // CuDnn.Failure and anything else: this key falls back for good
            g.close();
            decline(key, e);
            return null;
        }
    }

    private void decline(String key, RuntimeException e) {
        plans.put(key, e.getMessage());
        LOG.log(System.Logger.Level.INFO, "CUDNN attention declined, falling back to the kernels for " + key + ": "
            + e.getMessage());
    }

    /**
     * out = softmax(scale·QKᵀ)·V and lse (contiguous F32 [B, H, Lq] on this device) on cuDNN; false when cuDNN
     * declined the call (nothing of the outputs is to be trusted then; the caller reruns it on the kernels).
     */
    synchronized boolean forward(Tensor q, Tensor k, Tensor v, double scale, Tensor out, Tensor lse) {
        long bb = q.size(0), h = q.size(1), lq = q.size(2), lk = k.size(2);
        String key = key("forward", scale, q, k, v, out, lse);
        Plan p = plan(key, g -> {
            CudnnGraph.Node tq = io(g, "Q", q, false);
            CudnnGraph.Node tk = io(g, "K^T", k, true);
            CudnnGraph.Node tv = io(g, "V", v, false);
            CudnnGraph.Node to = io(g, "O", out, false);
            CudnnGraph.Node ts = stats(g, "Stats", bb, h, lq, false);
            CudnnGraph.Node tscale = g.tensor("attn_scale", DATA_FLOAT, new long[] {1, 1, 1, 1},
                new long[] {1, 1, 1, 1}, 16, false, true);
            long[] scores = {bb, h, lq, lk};
            CudnnGraph.Node s = g.virtualF32("S", scores);
            g.matmul("bmm1 Q·K^T", tq, tk, s);
            CudnnGraph.Node ss = g.virtualF32("S*scale", scores);
            g.pointwise("attn_scale", POINTWISE_MUL, s, tscale, ss);
            CudnnGraph.Node max = g.virtualF32("max", bb, h, lq, 1);
            g.reduction("max", REDUCE_MAX, ss, max);
            CudnnGraph.Node sub = g.virtualF32("S-max", scores);
            g.pointwise("sub", POINTWISE_SUB, ss, max, sub);
            CudnnGraph.Node e = g.virtualF32("exp", scores);
            g.pointwise("exp", POINTWISE_EXP, sub, null, e);
            CudnnGraph.Node sum = g.virtualF32("sum_exp", bb, h, lq, 1);
            g.reduction("sum", REDUCE_ADD, e, sum);
            CudnnGraph.Node log = g.virtualF32("log_sum_exp", bb, h, lq, 1);
            g.pointwise("log", POINTWISE_LOG, sum, null, log);
            g.pointwise("stats", POINTWISE_ADD, max, log, ts);
            // bmm2's A operand carries the i/o type (cudnn-frontend: "Requirement by cudnn backend")
            CudnnGraph.Node pr = g.tensor("P", dataType(q.dtype()), scores, CudnnGraph.contiguous(scores), 16, true,
                false);
            g.pointwise("div", POINTWISE_DIV, e, sum, pr);
            g.matmul("bmm2 P·V", pr, tv, to);
            MemorySegment sv = g.hostFloat((float) scale);
            return new Plan(g, new long[] {tq.uid(), tk.uid(), tv.uid(), to.uid(), ts.uid(), tscale.uid()},
                new MemorySegment[] {sv});
        });
        if (p == null) {
            return false;
        }
        return run(key, p, new long[] {b.pointer(q), b.pointer(k), b.pointer(v), b.pointer(out), b.pointer(lse),
            p.hostValues()[0].address()}, null);
    }

    /**
     * dq, dk, dv of the forward whose output is {@code out} and statistics {@code lse} (contiguous F32 [B, H, Lq]) on
     * cuDNN; false when cuDNN declined the call.
     */
    synchronized boolean backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse, double scale,
                                  Tensor dq, Tensor dk, Tensor dv) {
        long bb = q.size(0), h = q.size(1), lq = q.size(2), lk = k.size(2), d = q.size(3), dvd = v.size(3);
        String key = key("backward", scale, q, k, v, out, dOut, lse, dq, dk, dv);
        Plan p = plan(key, g -> backwardGraph(g, q, k, v, out, dOut, dq, dk, dv, scale, bb, h, lq, lk, d, dvd));
        if (p == null) {
            return false;
        }
        try (CudaScratch s = b.scratch()) {
            // cudnn-frontend keeps these two in its workspace: softmax_sum = rowsum(dO∘O), and the fp32 dQ accumulator
            // the engine adds into (so it starts at zero)
            Tensor softmaxSum = s.tensor(DType.F32, bb, h, lq, 1);
            Tensor dqAcc = s.tensor(DType.F32, bb, h, lq, d);
            b.fill(dqAcc, 0);
            return run(key, p, new long[] {b.pointer(q), b.pointer(k), b.pointer(v), b.pointer(out), b.pointer(dOut),
                b.pointer(lse), b.pointer(dq), b.pointer(dk), b.pointer(dv), b.pointer(softmaxSum), b.pointer(dqAcc),
                p.hostValues()[0].address(), p.hostValues()[1].address()}, s);
        }
    }

    /** The composite SDPA backward of cudnn-frontend (MHA, no dropout/bias/mask, fp32 dQ accumulator variant). */
    private Plan backwardGraph(CudnnGraph g, Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor dq,
                               Tensor dk, Tensor dv, double scale, long bb, long h, long lq, long lk, long d, long dvd) {
        CudnnGraph.Node tq = io(g, "Q", q, false);
        CudnnGraph.Node tk = io(g, "K^T", k, true);
        CudnnGraph.Node tv = io(g, "V^T", v, true);
        CudnnGraph.Node to = io(g, "O", out, false);
        CudnnGraph.Node tdo = io(g, "dO", dOut, false);
        CudnnGraph.Node ts = stats(g, "Stats", bb, h, lq, false);
        CudnnGraph.Node tdq = io(g, "dQ", dq, false);
        CudnnGraph.Node tdk = io(g, "dK", dk, false);
        CudnnGraph.Node tdv = io(g, "dV", dv, false);
        CudnnGraph.Node sum = stats(g, "softmax_sum", bb, h, lq, false);
        long[] accDims = {bb, h, lq, d};
        CudnnGraph.Node acc = g.tensor("dQ_accum", DATA_FLOAT, accDims, CudnnGraph.contiguous(accDims), 16, false,
            false);
        CudnnGraph.Node tscale = g.tensor("attn_scale", DATA_FLOAT, new long[] {1, 1, 1, 1}, new long[] {1, 1, 1, 1},
            16, false, true);
        CudnnGraph.Node one = g.tensor("one", DATA_FLOAT, new long[] {1, 1, 1, 1}, new long[] {1, 1, 1, 1}, 16, false,
            true);
        int io = dataType(q.dtype());
        long[] scores = {bb, h, lq, lk};
        long[] scoresT = {bb, h, lk, lq};
        long[] scoresTStrides = {h * lq * lk, lq * lk, 1, lk};
        // softmax_sum = rowsum(dO ∘ O) · 1
        CudnnGraph.Node dOO = g.virtualF32("dO*O", bb, h, lq, dvd);
        g.pointwise("mul_dO_O", POINTWISE_MUL, tdo, to, dOO);
        CudnnGraph.Node rowSum = g.virtualF32("rowsum(dO*O)", bb, h, lq, 1);
        g.reduction("reduce_dO_o", REDUCE_ADD, dOO, rowSum);
        g.pointwise("scale_dropout_inv", POINTWISE_MUL, rowSum, one, sum);
        // P = exp(scale·QKᵀ − Stats); dV = Pᵀ·dO
        CudnnGraph.Node s = g.virtualF32("S", scores);
        g.matmul("matmul_Q_KT", tq, tk, s);
        CudnnGraph.Node ss = g.virtualF32("S*scale", scores);
        g.pointwise("mul_s_attn_scale", POINTWISE_MUL, s, tscale, ss);
        CudnnGraph.Node sm = g.virtualF32("S-Stats", scores);
        g.pointwise("sub_s_m", POINTWISE_SUB, ss, ts, sm);
        CudnnGraph.Node pr = g.virtualF32("P", scores);
        g.pointwise("exp_s", POINTWISE_EXP, sm, null, pr);
        CudnnGraph.Node pt = g.tensor("P^T", io, scoresT, scoresTStrides, 16, true, false);
        g.reshape("reshape_p", pr, pt);
        g.matmul("matmul_pT_dO", pt, tdo, tdv);
        // dS = P ∘ (dO·Vᵀ − softmax_sum) · scale; dK = dSᵀ·Q; dQ = dS·K (fp32 accumulator, then cast)
        CudnnGraph.Node dp = g.virtualF32("dP", scores);
        g.matmul("matmul_dO_VT", tdo, tv, dp);
        CudnnGraph.Node dps = g.virtualF32("dP-softmax_sum", scores);
        g.pointwise("sub_dP_softmax_sum", POINTWISE_SUB, dp, sum, dps);
        CudnnGraph.Node dsu = g.virtualF32("dS unscaled", scores);
        g.pointwise("mul_dP_exp_s", POINTWISE_MUL, dps, pr, dsu);
        CudnnGraph.Node ds = g.virtualF32("dS", scores);
        g.pointwise("mul_dS_attn_scale", POINTWISE_MUL, dsu, tscale, ds);
        CudnnGraph.Node dst = g.tensor("dS^T", io, scoresT, scoresTStrides, 16, true, false);
        g.reshape("reshape_dS", ds, dst);
        g.matmul("matmul_dST_Q", dst, tq, tdk);
        long[] ks = k.strides();
        CudnnGraph.Node kr = g.tensor("K", DATA_FLOAT, dims(k), ks, 16, true, false);
        g.reshape("reshape_k", tk, kr);
        g.matmul("matmul_dS_K", ds, kr, acc);
        g.pointwise("identity_dQ", POINTWISE_IDENTITY, acc, null, tdq);
        MemorySegment sv = g.hostFloat((float) scale);
        MemorySegment ov = g.hostFloat(1f);
        return new Plan(g, new long[] {tq.uid(), tk.uid(), tv.uid(), to.uid(), tdo.uid(), ts.uid(), tdq.uid(),
            tdk.uid(), tdv.uid(), sum.uid(), acc.uid(), tscale.uid(), one.uid()}, new MemorySegment[] {sv, ov});
    }

    /** Executes with a workspace from the allocator; a failure declines the key (the caller falls back). */
    private boolean run(String key, Plan p, long[] pointers, CudaScratch outer) {
        try (CudaScratch s = outer == null ? b.scratch() : null) {
            CudaScratch ws = outer != null ? outer : s;
            long bytes = p.graph().workspaceBytes();
            long wsPtr = bytes > 0 ? b.pointer(ws.tensor(DType.F32, (bytes + 3) / 4)) : 0;
            CudaProfile.time(b.context(), "cudnn sdpa " + key.substring(0, key.indexOf(' ')), // forward or backward
                () -> p.graph().execute(p.uids(), pointers, wsPtr));
            return true;
        } catch (RuntimeException e) { // the kernels rerun the call; the outputs they write replace ours
            p.graph().close();
            decline(key, e);
            return false;
        }
    }
}
