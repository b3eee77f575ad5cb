package dev.loraid.tensor;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The op catalogue: every {@link Backend} method that takes tensors, once, with its tensor arguments (names as in
 * {@link Backend}, in declaration order), the dtypes each argument accepts and its shape contract in one line.
 * {@link Backend#supports} answers from here (plus a backend's own limits), so a caller can fall back instead of
 * failing; the op test ({@code BackendOpsTest}) has one or more cases per constant, each with its fp64 reference,
 * and runs them on every backend, and a reflection test keeps this list equal to {@link Backend}'s methods.
 *
 * <p>Adding an op: its method on {@link Backend}, a constant here, the kernel in each backend's family class and
 * the dispatch line in each backend, and its case (with reference) in the test's {@code OpCases}.
 */
public enum BackendOp {
    COPY("copy", "src:any, dst:any", "src broadcastable to dst; any strides; casts between any dtypes"),
    FILL("fill", "dst:any", "every element of dst = value, cast to its dtype"),
    GATHER_ROWS("gatherRows", "table:any, ids:index, out:any", "table [V, D], ids [N], out [N, D]"),
    MATMUL("matmul", "a:float, b:float, c:float, bias:float",
        "a [..., M, K] @ b [..., K, N] -> c [..., M, N], batch dims broadcast, bias null or [N]"),
    UNARY("unary", "x:float, out:float", "out = op(x), same shape"),
    UNARY_BACKWARD("unaryBackward", "x:float, dOut:float, dx:float", "dx = dOut * op'(x), same shape"),
    BINARY("binary", "a:float, b:float, out:float", "out = op(a, b), a and b broadcast to out"),
    BINARY_SCALAR("binaryScalar", "a:float, out:float", "out = op(a, scalar), same shape"),
    ADD_SCALED("addScaled", "a:float, b:float, out:float", "out = a*alpha + b*beta, a and b broadcast to out"),
    REDUCE("reduce", "x:float, out:float", "out = x reduced over dims, keepdim (size 1 there)"),
    SOFTMAX("softmax", "x:float, out:float", "over the last dimension, same shape"),
    SOFTMAX_BACKWARD("softmaxBackward", "y:float, dy:float, dx:float", "dx = y * (dy - sum(dy*y)), same shape"),
    LAYER_NORM("layerNorm", "x:float, weight:float, bias:float, out:float, mean:wide, rstd:wide",
        "x, out [..., D]; weight, bias null or [D]; mean, rstd null or [rows]"),
    LAYER_NORM_BACKWARD("layerNormBackward",
        "x:float, weight:float, mean:wide, rstd:wide, dOut:float, dx:float, dWeight:float, dBias:float",
        "x, dOut, dx [..., D]; weight, dWeight, dBias null or [D]; mean, rstd [rows]"),
    RMS_NORM("rmsNorm", "x:float, weight:float, out:float, rstd:wide",
        "x, out [..., D]; weight null or [D]; rstd null or [rows]"),
    RMS_NORM_BACKWARD("rmsNormBackward", "x:float, weight:float, rstd:wide, dOut:float, dx:float, dWeight:float",
        "x, dOut, dx [..., D]; weight, dWeight null or [D]; rstd [rows]"),
    ROPE("rope", "x:float, cos:wide, sin:wide, out:float", "x, out [..., L, H, D], D even; cos, sin [L, D/2]"),
    ATTENTION("attention", "q:float, k:float, v:float, out:float, lse:wide",
        "q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv] -> out [B, H, Lq, Dv]; lse null or [B, H, Lq]"),
    ATTENTION_BACKWARD("attentionBackward",
        "q:float, k:float, v:float, out:float, dOut:float, lse:wide, dq:float, dk:float, dv:float",
        "as attention; dq, dk, dv shaped as q, k, v"),
    ATTENTION_WITH_BIAS("attentionWithBias", "q:float, k:float, v:float, bias:float, out:float",
        "as attention; bias [B, H, Lq, Lk] (any strides, e.g. stride 0 over B) added to the scaled scores"),
    CONV3D("conv3d", "x:float, weight:float, bias:float, out:float",
        "x [N, I, T, H, W], weight [O, I, kt, kh, kw], bias null or [O] -> out [N, O, To, Ho, Wo]"),
    CONV3D_BACKWARD("conv3dBackward", "x:float, weight:float, dOut:float, dx:float, dWeight:float, dBias:float",
        "as conv3d, dOut shaped as its out; dx, dWeight, dBias null or shaped as x, weight, [O]; overwritten"),
    UPSAMPLE_NEAREST("upsampleNearest", "x:any, out:any", "out.size(d) a whole multiple of x.size(d), same rank"),
    PAD("pad", "x:any, out:any", "x placed at before[d] inside out, zeros elsewhere, same rank"),
    RANDOM_UNIFORM("randomUniform", "dst:float", "element i = uniform [0, 1) number offset + i of stream seed"),
    RANDOM_NORMAL("randomNormal", "dst:float", "element i = standard normal number offset + i of stream seed"),
    ADAMW_UPDATE("adamwUpdate", "param:f32, grad:f32, m:f32, v:f32", "all F32, one shape; updated in place"),
    ADAMW8BIT_UPDATE("adamw8bitUpdate",
        "param:f32, grad:f32, m:u8, v:u8, absmaxM:f32, absmaxV:f32, mapM:f32, mapV:f32",
        "contiguous; param, grad, m, v one shape of n elements; absmaxes [ceil(n / 256)]; maps [256]; updated in place");

    /** The dtype classes of the contract. */
    private enum Kind {
        ANY(EnumSet.allOf(DType.class)),
        FLOAT(EnumSet.of(DType.F64, DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2)),
        /** Statistics and tables: fp32, or fp64 for the all-F64 (gradient-check) calls. */
        WIDE(EnumSet.of(DType.F64, DType.F32)),
        F32(EnumSet.of(DType.F32)),
        /** 8-bit codes (quantized optimizer states). */
        U8(EnumSet.of(DType.U8)),
        INDEX(EnumSet.of(DType.I64, DType.I32));

        final Set<DType> dtypes;

        Kind(Set<DType> dtypes) {
            this.dtypes = dtypes;
        }
    }

    private final String method;
    private final List<String> args;
    private final List<Kind> kinds;
    private final String contract;

    BackendOp(String method, String args, String contract) {
        this.method = method;
        List<String[]> parts = Arrays.stream(args.split(", ")).map(a -> a.split(":")).toList();
        this.args = parts.stream().map(p -> p[0]).toList();
        this.kinds = parts.stream().map(p -> Kind.valueOf(p[1].toUpperCase())).toList();
        this.contract = contract;
    }

    /** The {@link Backend} method's name. */
    public String method() {
        return method;
    }

    /** The tensor arguments' names, in the {@link Backend} method's order. */
    public List<String> args() {
        return args;
    }

    /** The dtypes argument {@code i} accepts. */
    public Set<DType> dtypes(int i) {
        return kinds.get(i).dtypes;
    }

    /** The shape contract, in one line. */
    public String contract() {
        return contract;
    }

    /** The constant for a {@link Backend} method name; throws naming it when there is none. */
    public static BackendOp of(String method) {
        for (BackendOp op : values()) {
            if (op.method.equals(method)) {
                return op;
            }
        }
        throw new IllegalArgumentException("no BackendOp for Backend." + method);
    }

    /**
     * Whether {@code args} (the op's tensor arguments in order; null for an absent optional one) meet the dtype
     * contract and all live on {@code device} (for {@link #COPY}, one side may be on the host). Null when they
     * do, else why not, naming the argument.
     */
    public String problem(Device device, Tensor... args) {
        if (args.length != this.args.size()) {
            return method + " takes " + this.args.size() + " tensors (" + String.join(", ", this.args) + "), got "
                + args.length;
        }
        boolean hostSide = false;
        for (int i = 0; i < args.length; i++) {
            Tensor t = args[i];
            if (t == null) {
                continue;
            }
            if (!kinds.get(i).dtypes.contains(t.dtype())) {
                return method + ": " + this.args.get(i) + " is " + t.dtype() + ", expected one of " + kinds.get(i).dtypes;
            }
            if (!t.device().equals(device)) {
                if (this == COPY && t.device().isCpu() && !hostSide) {
                    hostSide = true;
                } else {
                    return method + ": " + this.args.get(i) + " is on " + t.device() + ", not " + device;
                }
            }
        }
        return null;
    }
}
