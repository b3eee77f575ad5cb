package dev.loraid.bench.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.bench.train.TrainStepCase;
import dev.loraid.core.lora.LokrAdapter;
import dev.loraid.core.lora.NetworkModule;
import dev.loraid.wan.RopeTables;
import dev.loraid.wan.Sinusoid;
import dev.loraid.wan.WanConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One LoRA training step of a whole Wan 2.1 model written independently of ours with DJL's NDArray ops, in fp32
 * (bf16 aborts DJL 0.36): patch embedding as patchify + matmul, sinusoid → time MLP → e, e0; T5 states padded to
 * text_len → text MLP; the blocks as in {@link DjlWanBlock} with {@code y = x·Wᵀ + b + (x·Dᵀ)·Uᵀ·α/r} on each of the
 * ten Linears of every block; the modulated head and unpatchify; the flow-matching MSE against ε − x₀. PyTorch's
 * autograd gives the LoRA gradients; they are clipped to the global norm and AdamW (torch's formula, decoupled weight
 * decay) updates the LoRA weights in place, written out with NDArray ops. LoRA init as ours: down ~ U(±1/√in), up = 0.
 * LoHa and LoKr instead (musubi networks/loha.py, lokr.py, initialised as there): ΔW = (w1a·w1b) ⊙ (w2a·w2b) or
 * kron(w1, w2a·w2b) built in every forward pass, {@code y = x·Wᵀ + b + x·ΔWᵀ·s}.
 * Each step's arrays live in a sub-manager closed after it (results join their first operand's manager, so every
 * product is written activation-first; transposed LoRA weights are attached to the step's manager).
 */
final class DjlWanTrainStep implements TorchCpu.TrainRun {
    private static final String[] LORA_LAYERS = {"self_attn.q", "self_attn.k", "self_attn.v", "self_attn.o",
        "cross_attn.q", "cross_attn.k", "cross_attn.v", "cross_attn.o", "ffn.0", "ffn.2"};
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;

    private final NDManager manager;
    private final TrainStepCase data;
    private final WanConfig c;
    private final long tokens;
    private final int[] grid;
    private final Map<String, NDArray> w = new HashMap<>();
    private final Map<String, NDArray[]> factors = new HashMap<>(); // LoRA {down, up}; LoHa {w1a, w1b, w2a, w2b}; LoKr {w1, w2a, w2b} or {w1, w2}
    private final Map<String, Double> scales = new HashMap<>();
    private final List<NDArray[]> adam = new ArrayList<>(); // {param, m, v}
    private final NetworkModule module;
    private final NDArray cos;
    private final NDArray sin;
    private long steps;
    private double lastLoss = Double.NaN;

    /** @param module the network trained on every block Linear; null: the plain frozen model (sampling, {@link DjlWanSample}) */
    DjlWanTrainStep(NDManager parent, TrainStepCase data, NetworkModule module) {
        this.manager = parent.newSubManager();
        this.module = module;
        this.data = data;
        this.c = data.config();
        this.tokens = data.tokens();
        long[] ls = data.latentShape();
        this.grid = new int[] {(int) (ls[1] / c.patchT()), (int) (ls[2] / c.patchH()), (int) (ls[3] / c.patchW())};
        data.weights().forEach((name, v) -> {
            long[] s = data.shapes().get(name);
            NDArray a = manager.create(v, new Shape(s));
            if (name.equals("patch_embedding.weight")) {
                a = a.reshape(s[0], -1);
            } else if (name.endsWith("modulation")) {
                a = a.reshape(s[1], s[2]); // [1, 6 or 2, D] → [6 or 2, D], once
            }
            // Linear weights are kept transposed, [in, out], so that every product reads x.matMul(wT)
            w.put(name, name.endsWith(".weight") && a.getShape().dimension() == 2 ? a.transpose() : a);
        });
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
        for (int b = 0; b < (module != null ? c.numLayers() : 0); b++) {
            for (String l : LORA_LAYERS) {
                String name = "blocks." + b + "." + l;
                long[] s = data.shapes().get(name + ".weight");
                int r = data.rank();
                double scale = data.alpha() / r;
                NDArray[] f = switch (module) {
                    case LORA -> new NDArray[] {uniform(rnd, 1 / Math.sqrt(s[1]), r, s[1]), manager.zeros(new Shape(s[0], r))};
                    case LOHA -> new NDArray[] {normal(rnd, 0.1, s[0], r), normal(rnd, 1, r, s[1]), manager.zeros(new Shape(s[0], r)),
                        normal(rnd, 1, r, s[1])};
                    case LOKR -> {
                        int[] o = LokrAdapter.factorization((int) s[0], -1);
                        int[] i = LokrAdapter.factorization((int) s[1], -1);
                        NDArray w1 = uniform(rnd, 1 / Math.sqrt(i[0]), o[0], i[0]);
                        if (LokrAdapter.wholeW2((int) s[0], (int) s[1], r, -1)) {
                            scale = 1;
                            yield new NDArray[] {w1, manager.zeros(new Shape(o[1], i[1]))};
                        }
                        yield new NDArray[] {w1, uniform(rnd, 1 / Math.sqrt(r), o[1], r), manager.zeros(new Shape(r, i[1]))};
                    }
                };
                for (NDArray a : f) {
                    a.setRequiresGradient(true);
                    adam.add(new NDArray[] {a, manager.zeros(a.getShape()), manager.zeros(a.getShape())});
                }
                factors.put(name, f);
                scales.put(name, scale);
            }
        }
        RopeTables rope = RopeTables.of(c.headDim(), grid[0], grid[1], grid[2]);
        long pairs = c.headDim() / 2;
        cos = manager.create(rope.cos().to(dev.loraid.tensor.DType.F32).toFloatArray(), new Shape(tokens, 1, pairs));
        sin = manager.create(rope.sin().to(dev.loraid.tensor.DType.F32).toFloatArray(), new Shape(tokens, 1, pairs));
    }

    @Override
    public void run() {
        try (NDManager call = manager.newSubManager()) {
            NDArray loss;
            try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                NDArray x0 = call.create(data.latents(), new Shape(data.latentShape()));
                NDArray eps = call.randomNormal(x0.getShape());
                double s = data.sigma();
                NDArray noisy = x0.mul(1 - s).add(eps.mul(s));
                NDArray target = eps.sub(x0);
                NDArray pred = forward(call, noisy, data.timestep(), data.t5());
                loss = pred.sub(target).square().mean();
                gc.backward(loss);
            }
            lastLoss = loss.getFloat();
            update();
        }
    }

    @Override
    public double lastLoss() {
        return lastLoss;
    }

    /**
     * The DiT's velocity for {@code latent} [C, F, H, W] at model timestep {@code timestep} with the unpadded T5 states
     * {@code t5} [tokens, text_dim]; every intermediate joins {@code call} (create {@code latent} there).
     */
    NDArray forward(NDManager call, NDArray latent, double timestep, float[] t5States) {
        // conditioning: sinusoid → e [1, D] → e0 [6, D]; padded T5 → context [text_len, D]
        double[] sf = Sinusoid.features(new double[] {timestep}, c.freqDim());
        float[] sff = new float[sf.length];
        for (int i = 0; i < sf.length; i++) {
            sff[i] = (float) sf[i];
        }
        NDArray sinusoid = call.create(sff, new Shape(1, c.freqDim()));
        NDArray e = linear(silu(linear(sinusoid, "time_embedding.0")), "time_embedding.2");
        NDArray e0 = linear(silu(e), "time_projection.1").reshape(6, c.dim());
        float[] t5 = new float[c.textLen() * c.textDim()];
        System.arraycopy(t5States, 0, t5, 0, t5States.length);
        NDArray context = call.create(t5, new Shape(c.textLen(), c.textDim()));
        NDArray ctx = linear(gelu(linear(context, "text_embedding.0")), "text_embedding.2");

        // patch embedding: [C, F, H, W] → [L, C·pt·ph·pw] · Wᵀ
        long ch = latent.getShape().get(0);
        NDArray patches = latent.reshape(ch, grid[0], c.patchT(), grid[1], c.patchH(), grid[2], c.patchW())
            .transpose(1, 3, 5, 0, 2, 4, 6).reshape(tokens, ch * c.patchVolume());
        NDArray x = linear(patches, "patch_embedding");

        for (int b = 0; b < c.numLayers(); b++) {
            x = block(call, x, e0, ctx, "blocks." + b + ".");
        }

        // head: modulated plain norm, Linear, unpatchify
        NDArray mod = e.add(w.get("head.modulation"));
        NDArray rows = linear(layerNorm(x).mul(mod.get(1).add(1)).add(mod.get(0)), "head.head");
        return rows.reshape(grid[0], grid[1], grid[2], c.patchT(), c.patchH(), c.patchW(), c.outDim())
            .transpose(6, 0, 3, 1, 4, 2, 5)
            .reshape(c.outDim(), (long) grid[0] * c.patchT(), (long) grid[1] * c.patchH(), (long) grid[2] * c.patchW());
    }

    private NDArray block(NDManager call, NDArray x, NDArray e0, NDArray ctx, String p) {
        NDArray e = e0.add(w.get(p + "modulation"));
        NDArray[] mod = new NDArray[6];
        for (int k = 0; k < 6; k++) {
            NDArray chunk = e.get(k);
            mod[k] = k == 1 || k == 4 ? chunk.add(1) : chunk; // scales enter as (1 + scale)
        }
        NDArray a = layerNorm(x).mul(mod[1]).add(mod[0]);
        NDArray q = rope(split(rms(lora(call, a, p + "self_attn.q"), p + "self_attn.norm_q.weight")));
        NDArray k = rope(split(rms(lora(call, a, p + "self_attn.k"), p + "self_attn.norm_k.weight")));
        NDArray v = split(lora(call, a, p + "self_attn.v"));
        x = x.add(lora(call, attention(q, k, v), p + "self_attn.o").mul(mod[2]));

        NDArray n3 = layerNorm(x).mul(w.get(p + "norm3.weight")).add(w.get(p + "norm3.bias"));
        NDArray qc = split(rms(lora(call, n3, p + "cross_attn.q"), p + "cross_attn.norm_q.weight"));
        NDArray kc = split(rms(lora(call, ctx, p + "cross_attn.k"), p + "cross_attn.norm_k.weight"));
        NDArray vc = split(lora(call, ctx, p + "cross_attn.v"));
        x = x.add(lora(call, attention(qc, kc, vc), p + "cross_attn.o"));

        NDArray g = layerNorm(x).mul(mod[4]).add(mod[3]);
        NDArray h = lora(call, gelu(lora(call, g, p + "ffn.0")), p + "ffn.2");
        return x.add(h.mul(mod[5]));
    }

    private NDArray linear(NDArray x, String name) {
        return x.matMul(w.get(name + ".weight")).add(w.get(name + ".bias"));
    }

    /** The frozen Linear plus its network's branch: LoRA (x·Dᵀ)·Uᵀ·s, LoHa and LoKr x·ΔWᵀ·s. */
    private NDArray lora(NDManager call, NDArray x, String name) {
        if (module == null) {
            return linear(x, name);
        }
        NDArray[] f = factors.get(name);
        double scale = scales.get(name);
        if (module == NetworkModule.LORA) {
            NDArray dT = inCall(call, f[0].transpose());
            NDArray uT = inCall(call, f[1].transpose());
            return linear(x, name).add(x.matMul(dT).matMul(uT).mul(scale));
        }
        NDArray delta;
        if (module == NetworkModule.LOHA) {
            delta = inCall(call, f[0].matMul(f[1])).mul(inCall(call, f[2].matMul(f[3])));
        } else {
            NDArray w2 = f.length == 2 ? f[1] : inCall(call, f[1].matMul(f[2]));
            long a = f[0].getShape().get(0);
            long cc = f[0].getShape().get(1);
            long b = w2.getShape().get(0);
            long d = w2.getShape().get(1);
            // kron(w1, w2) as a broadcast product [a, 1, c, 1] · [1, b, 1, d]
            delta = inCall(call, f[0].reshape(a, 1, cc, 1)).mul(inCall(call, w2.reshape(1, b, 1, d))).reshape(a * b, cc * d);
        }
        return linear(x, name).add(x.matMul(delta.transpose()).mul(scale));
    }

    /** {@code a}, a product of long-lived factors, attached to the step's manager (freed with it). */
    private static NDArray inCall(NDManager call, NDArray a) {
        a.attach(call);
        return a;
    }

    private NDArray uniform(java.util.SplittableRandom rnd, double bound, long rows, long cols) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((2 * rnd.nextDouble() - 1) * bound);
        }
        return manager.create(v, new Shape(rows, cols));
    }

    private NDArray normal(java.util.SplittableRandom rnd, double std, long rows, long cols) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        java.util.Random g = new java.util.Random(rnd.nextLong());
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (g.nextGaussian() * std);
        }
        return manager.create(v, new Shape(rows, cols));
    }

    /** Global-norm clipping, then AdamW with torch's bias correction and decoupled weight decay; grads zeroed. */
    private void update() {
        steps++;
        double sumSq = 0;
        for (NDArray[] s : adam) {
            try (NDArray g = s[0].getGradient(); NDArray sq = g.square(); NDArray sum = sq.sum()) {
                sumSq += sum.getFloat();
            }
        }
        double norm = Math.sqrt(sumSq);
        double clip = data.maxGradNorm() > 0 ? Math.min(1, data.maxGradNorm() / (norm + 1e-6)) : 1;
        double lr = data.lr();
        double bc1 = 1 - Math.pow(BETA1, steps);
        double bc2 = 1 - Math.pow(BETA2, steps);
        for (NDArray[] s : adam) {
            NDArray p = s[0];
            NDArray m = s[1];
            NDArray v = s[2];
            try (NDArray g = p.getGradient()) {
                if (clip < 1) {
                    g.muli(clip);
                }
                m.muli(BETA1);
                try (NDArray t = g.mul(1 - BETA1)) {
                    m.addi(t);
                }
                v.muli(BETA2);
                try (NDArray sq = g.square(); NDArray t = sq.mul(1 - BETA2)) {
                    v.addi(t);
                }
                p.muli(1 - lr * data.weightDecay());
                try (NDArray vh = v.div(bc2); NDArray root = vh.sqrt(); NDArray den = root.add(EPS);
                     NDArray mh = m.div(bc1); NDArray u = mh.div(den); NDArray step = u.mul(lr)) {
                    p.subi(step);
                }
                g.subi(g);
            }
        }
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

    private static NDArray silu(NDArray x) {
        return x.div(x.neg().exp().add(1));
    }

    @Override
    public void close() {
        manager.close();
    }
}
