package dev.loraid.bench.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.bench.train.TrainStepCase;
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
    private final Map<String, NDArray> down = new HashMap<>();
    private final Map<String, NDArray> up = new HashMap<>();
    private final List<NDArray[]> adam = new ArrayList<>(); // {param, m, v}
    private final double scale;
    private final boolean withLora;
    private final NDArray cos;
    private final NDArray sin;
    private long steps;
    private double lastLoss = Double.NaN;

    DjlWanTrainStep(NDManager parent, TrainStepCase data) {
        this(parent, data, true);
    }

    /** @param withLora false: the plain frozen model (sampling, {@link DjlWanSample}); {@link #run()} then does not apply */
    DjlWanTrainStep(NDManager parent, TrainStepCase data, boolean withLora) {
        this.manager = parent.newSubManager();
        this.withLora = withLora;
        this.data = data;
        this.c = data.config();
        this.tokens = data.tokens();
        long[] ls = data.latentShape();
        this.grid = new int[] {(int) (ls[1] / c.patchT()), (int) (ls[2] / c.patchH()), (int) (ls[3] / c.patchW())};
        this.scale = data.alpha() / data.rank();
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
        for (int b = 0; b < (withLora ? c.numLayers() : 0); b++) {
            for (String l : LORA_LAYERS) {
                String name = "blocks." + b + "." + l;
                long[] s = data.shapes().get(name + ".weight");
                long in = s[1];
                float[] d = new float[Math.toIntExact(data.rank() * in)];
                double bound = 1 / Math.sqrt(in);
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) ((2 * rnd.nextDouble() - 1) * bound);
                }
                NDArray dn = manager.create(d, new Shape(data.rank(), in));
                NDArray u = manager.zeros(new Shape(s[0], data.rank()));
                dn.setRequiresGradient(true);
                u.setRequiresGradient(true);
                down.put(name, dn);
                up.put(name, u);
                adam.add(new NDArray[] {dn, manager.zeros(dn.getShape()), manager.zeros(dn.getShape())});
                adam.add(new NDArray[] {u, manager.zeros(u.getShape()), manager.zeros(u.getShape())});
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

    /** The frozen Linear plus its LoRA branch (x·Dᵀ)·Uᵀ·scale. */
    private NDArray lora(NDManager call, NDArray x, String name) {
        if (!withLora) {
            return linear(x, name);
        }
        NDArray dT = down.get(name).transpose();
        NDArray uT = up.get(name).transpose();
        dT.attach(call);
        uT.attach(call);
        return linear(x, name).add(x.matMul(dT).matMul(uT).mul(scale));
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
