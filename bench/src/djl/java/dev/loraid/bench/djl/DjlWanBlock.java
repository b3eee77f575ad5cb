package dev.loraid.bench.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.bench.wanblock.WanBlockCase;
import dev.loraid.wan.WanConfig;

import java.util.HashMap;
import java.util.Map;

/**
 * A Wan DiT block (spec wan.md §2.7) written independently of ours with DJL's NDArray ops, in fp32: non-affine
 * LayerNorm, modulation, q/k RMSNorm over the full width, interleaved-pair 3-D RoPE, attention as
 * matmul-softmax-matmul, cross-attention after the affine norm3, GELU-tanh FFN, gated residuals. Frozen weights;
 * the gradient flows to x only, through PyTorch's autograd. Each call's arrays live in a sub-manager closed after it
 * (every op's result joins its first operand's manager, so each product is written activation-first).
 */
final class DjlWanBlock implements TorchCpu.BlockRun {

    private final NDManager manager;
    private final WanBlockCase data;
    private final WanConfig c;
    private final long tokens;
    private final Map<String, NDArray> w = new HashMap<>();
    private final NDArray[] mod = new NDArray[6];
    private final NDArray cos;
    private final NDArray sin;

    DjlWanBlock(NDManager parent, WanBlockCase data) {
        this.manager = parent.newSubManager();
        this.data = data;
        this.c = data.config();
        this.tokens = data.tokens();
        data.weights().forEach((name, v) -> {
            long[] s = data.shapes().get(name);
            NDArray a = manager.create(v, new Shape(s));
            // Linear weights are kept transposed, [in, out], so that every product reads x.matMul(wT)
            w.put(name, s.length == 2 ? a.transpose() : a);
        });
        NDArray e = manager.create(data.e0(), new Shape(6, c.dim())).add(w.get("modulation").reshape(6, c.dim()));
        for (int k = 0; k < 6; k++) {
            NDArray chunk = e.get(k);
            mod[k] = k == 1 || k == 4 ? chunk.add(1) : chunk; // scales enter as (1 + scale)
        }
        long pairs = c.headDim() / 2;
        cos = manager.create(data.ropeCos(), new Shape(tokens, 1, pairs));
        sin = manager.create(data.ropeSin(), new Shape(tokens, 1, pairs));
    }

    @Override
    public void run() {
        step();
    }

    @Override
    public float[][] outputs() {
        return step();
    }

    private float[][] step() {
        try (NDManager call = manager.newSubManager();
             GradientCollector gc = manager.getEngine().newGradientCollector()) {
            NDArray x = call.create(data.x(), new Shape(tokens, c.dim()));
            NDArray ctx = call.create(data.context(), new Shape(c.textLen(), c.dim()));
            x.setRequiresGradient(true);
            NDArray out = forward(x, ctx);
            gc.backward(out);
            return new float[][] {out.toFloatArray(), x.getGradient().toFloatArray()};
        }
    }

    private NDArray forward(NDArray x, NDArray ctx) {
        NDArray a = layerNorm(x).mul(mod[1]).add(mod[0]);
        NDArray q = rope(split(rms(linear(a, "self_attn.q"), "self_attn.norm_q.weight")));
        NDArray k = rope(split(rms(linear(a, "self_attn.k"), "self_attn.norm_k.weight")));
        NDArray v = split(linear(a, "self_attn.v"));
        x = x.add(linear(attention(q, k, v), "self_attn.o").mul(mod[2]));

        NDArray n3 = layerNorm(x).mul(w.get("norm3.weight")).add(w.get("norm3.bias"));
        NDArray qc = split(rms(linear(n3, "cross_attn.q"), "cross_attn.norm_q.weight"));
        NDArray kc = split(rms(linear(ctx, "cross_attn.k"), "cross_attn.norm_k.weight"));
        NDArray vc = split(linear(ctx, "cross_attn.v"));
        x = x.add(linear(attention(qc, kc, vc), "cross_attn.o"));

        NDArray g = layerNorm(x).mul(mod[4]).add(mod[3]);
        NDArray h = linear(gelu(linear(g, "ffn.0")), "ffn.2");
        return x.add(h.mul(mod[5]));
    }

    private NDArray linear(NDArray x, String name) {
        return x.matMul(w.get(name + ".weight")).add(w.get(name + ".bias"));
    }

    private NDArray layerNorm(NDArray x) {
        return DjlWanOps.layerNorm(x, c);
    }

    private NDArray rms(NDArray x, String weight) {
        return DjlWanOps.rms(x, w.get(weight), c);
    }

    private NDArray split(NDArray x) {
        return DjlWanOps.split(x, c);
    }

    private NDArray rope(NDArray x) {
        return DjlWanOps.rope(x, cos, sin, c);
    }

    private NDArray attention(NDArray q, NDArray k, NDArray v) {
        return DjlWanOps.attention(q, k, v, c);
    }

    private static NDArray gelu(NDArray x) {
        return DjlWanOps.gelu(x);
    }

    @Override
    public void close() {
        manager.close();
    }
}
