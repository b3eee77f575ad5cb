package dev.loraid.bench.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.bench.umt5.Umt5LayerCase;
import dev.loraid.wan.text.Umt5Config;

import java.util.HashMap;
import java.util.Map;

/**
 * The UMT5 encoder (spec vae-t5.md §3) written independently of ours with DJL's NDArray ops, fp32: token lookup,
 * per layer T5 RMS norm, q/k/v without scaling, scores plus the relative position bias
 * {@code table[bucket(k − q), n]} (the bucket formula written out here from the spec), softmax,
 * matmul-softmax-matmul, o, residual; gated GELU-tanh FFN, residual; final norm. All tokens are real (no key mask).
 * Each call's arrays live in a sub-manager closed after it.
 */
final class DjlUmt5 implements TorchCpu.OutputRun {
    private static final double GELU_C = 0.7978845608028654;

    private final NDManager manager;
    private final Umt5Config c;
    private final Map<String, NDArray> w = new HashMap<>();
    private final long[] ids;
    private final int[] buckets;

    DjlUmt5(NDManager parent, Umt5LayerCase data) {
        this.manager = parent.newSubManager();
        this.c = data.config();
        this.ids = data.ids();
        data.weights().forEach((k, t) -> {
            NDArray a = manager.create(BenchTensors.floats(t), new Shape(t.shape().toArray()));
            // Linear weights kept transposed, [in, out], so that every product reads x.matMul(wT)
            w.put(k, t.rank() == 2 && !k.contains("embedding") ? a.transpose() : a);
        });
        int l = ids.length;
        buckets = new int[l * l];
        for (int q = 0; q < l; q++) {
            for (int k = 0; k < l; k++) {
                buckets[q * l + k] = bucket(k - q, c.numBuckets(), c.maxDistance());
            }
        }
    }

    /** Bidirectional T5 bucket: half the buckets per direction, exact below a quarter, log-spaced up to maxDistance. */
    static int bucket(int rel, int numBuckets, int maxDistance) {
        int half = numBuckets / 2;
        int base = rel > 0 ? half : 0;
        int n = Math.abs(rel);
        int exact = half / 2;
        if (n < exact) {
            return base + n;
        }
        float f = (float) (Math.log((float) n / exact) / Math.log((float) maxDistance / exact) * (half - exact));
        return base + Math.min(half - 1, exact + (int) f);
    }

    @Override
    public void run() {
        step(false);
    }

    @Override
    public float[] output() {
        return step(true);
    }

    private float[] step(boolean read) {
        try (NDManager call = manager.newSubManager()) {
            int l = ids.length;
            NDArray idx = call.create(ids, new Shape(l));
            NDArray x = w.get("token_embedding.weight").get(idx);
            x.attach(call);
            NDArray bucketIdx = call.create(buckets, new Shape((long) l * l));
            for (int i = 0; i < c.numLayers(); i++) {
                String p = "blocks." + i + ".";
                // [L·L] → [L, L, H] → [H, L, L]
                NDArray table = w.get(p + "pos_embedding.embedding.weight").get(bucketIdx);
                table.attach(call);
                NDArray bias = table.reshape(l, l, c.numHeads()).transpose(2, 0, 1);
                NDArray h = norm(x, p + "norm1.weight");
                NDArray q = heads(h.matMul(w.get(p + "attn.q.weight")));
                NDArray k = heads(h.matMul(w.get(p + "attn.k.weight")));
                NDArray v = heads(h.matMul(w.get(p + "attn.v.weight")));
                NDArray probs = q.matMul(k.transpose(0, 2, 1)).add(bias).softmax(-1);
                NDArray a = probs.matMul(v).transpose(1, 0, 2).reshape(l, c.dimAttn());
                x = x.add(a.matMul(w.get(p + "attn.o.weight")));
                NDArray g = norm(x, p + "norm2.weight");
                NDArray gate = gelu(g.matMul(w.get(p + "ffn.gate.0.weight")));
                NDArray ff = g.matMul(w.get(p + "ffn.fc1.weight")).mul(gate).matMul(w.get(p + "ffn.fc2.weight"));
                x = x.add(ff);
            }
            NDArray out = norm(x, "norm.weight");
            return read ? out.toFloatArray() : null;
        }
    }

    /** T5 norm: x · rsqrt(mean(x²) + eps) · weight. */
    private NDArray norm(NDArray x, String weight) {
        return x.mul(x.square().mean(new int[] {-1}, true).add(c.eps()).sqrt().pow(-1)).mul(w.get(weight));
    }

    /** [L, H·d] → [H, L, d]. */
    private NDArray heads(NDArray x) {
        return x.reshape(x.getShape().get(0), c.numHeads(), c.headDim()).transpose(1, 0, 2);
    }

    private static NDArray gelu(NDArray x) {
        NDArray inner = x.add(x.pow(3).mul(0.044715)).mul(GELU_C);
        return x.mul(inner.tanh().add(1)).mul(0.5);
    }

    @Override
    public void close() {
        manager.close();
    }
}
