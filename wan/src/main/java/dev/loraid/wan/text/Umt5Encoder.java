package dev.loraid.wan.text;

import dev.loraid.autograd.GradMode;
import dev.loraid.autograd.Module;
import dev.loraid.autograd.StateSource;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.ModuleList;
import dev.loraid.autograd.nn.RMSNorm;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanLinear;
import dev.loraid.wan.WanTaps;

import java.util.Map;

/**
 * Wan's text encoder, UMT5-XXL encoder-only (upstream {@code T5Encoder}, spec vae-t5.md §3), inference only:
 * {@code token_embedding}, {@code blocks.N} ({@link Umt5Block}), final {@code norm}. Weights are the checkpoint's
 * tensors adopted in their file dtype (BF16/F32/F16, fp8 with a scale; never copied on the CPU); the math runs in F32.
 *
 * <pre>{@code
 * try (Umt5Checkpoint ck = Umt5Checkpoint.open(Path.of("models_t5_umt5-xxl-enc-bf16.pth"))) {
 *     Umt5Encoder t5 = ck.model();
 *     TokenizedText t = tokenizer.encodeWan(prompt, Umt5Tokenizer.WAN_TEXT_LEN);
 *     Tensor context = t5.encode(t);                      // [seq_len, 4096] F32, what Wan's text cache stores
 * }
 * }</pre>
 */
public final class Umt5Encoder extends Module {
    /** The most negative finite float: upstream's {@code finfo(float32).min} on masked keys. */
    private static final double MASKED = -Float.MAX_VALUE;

    private final Umt5Config config;
    private final Umt5Embedding tokenEmbedding;
    private final Umt5RelativeEmbedding posEmbedding;
    private final ModuleList<Umt5Block> blocks;
    private final RMSNorm norm;

    /** The module tree of {@code config} with declared (empty) frozen parameters: see {@link #load}. */
    public Umt5Encoder(Umt5Config config) {
        this.config = config;
        this.tokenEmbedding = registerModule("token_embedding", new Umt5Embedding(config.vocab(), config.dim()));
        this.posEmbedding = config.sharedPos() ? registerModule("pos_embedding", new Umt5RelativeEmbedding(config)) : null;
        this.blocks = registerModule("blocks", new ModuleList<>());
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(new Umt5Block(config, i));
        }
        this.norm = registerModule("norm", RMSNorm.declared(config.dim(), config.eps(), DType.F32));
    }

    /**
     * The encoder over {@code weights} (upstream names, as {@link Umt5Checkpoint} gives them): the key set must fit
     * the config exactly (every problem named); {@code .scale_weight} tensors of fp8 Linears are adopted with them.
     */
    public static Umt5Encoder load(Umt5Config config, Map<String, Tensor> weights, String where) {
        Map<String, long[]> shapes = new java.util.LinkedHashMap<>();
        weights.forEach((k, t) -> shapes.put(k, t.shape().toArray()));
        Umt5Keys.requireMatches(config, shapes, where);
        Umt5Encoder m = new Umt5Encoder(config);
        Map<String, Module> modules = m.namedModules();
        shapes.forEach((k, s) -> {
            if (k.endsWith(Umt5Keys.SCALE_SUFFIX)) {
                ((WanLinear) modules.get(k.substring(0, k.length() - Umt5Keys.SCALE_SUFFIX.length()))).expectScale(s);
            }
        });
        m.loadStateDict(StateSource.of(weights), true);
        return m;
    }

    public Umt5Config config() {
        return config;
    }

    /** Moves the weights to {@code device} once, in their dtype ({@link Module#to(Device)}). */
    @Override
    public Umt5Encoder to(Device device) {
        super.to(device);
        return this;
    }

    /** Wan's text cache entry for {@code text}: {@link #encode(Tensor, Tensor)} of its padded ids and mask. */
    public Tensor encode(TokenizedText text) {
        long[] ids = java.util.Arrays.stream(text.paddedIds()).asLongStream().toArray();
        long[] mask = java.util.Arrays.stream(text.paddedMask()).asLongStream().toArray();
        return encode(Tensor.ofLongs(ids, ids.length), Tensor.ofLongs(mask, mask.length));
    }

    /**
     * What upstream's {@code T5EncoderModel.__call__} returns (spec §3 "Call"): the first {@code seq_len = Σ mask}
     * rows of {@link #forward(Tensor, Tensor)}, {@code [seq_len, dim]} F32 on the model's device.
     */
    public Tensor encode(Tensor ids, Tensor mask) {
        Tensor all = forward(ids, mask);
        long seqLen = realTokens(mask);
        try (MemoryScope s = MemoryScope.suspend()) {
            return all.narrow(0, 0, seqLen).copy();
        }
    }

    /** {@link #forward(Tensor, Tensor, WanTaps)} without taps. */
    public Tensor forward(Tensor ids, Tensor mask) {
        return forward(ids, mask, WanTaps.NONE);
    }

    /**
     * One encoder call without a graph: ids [L] and mask [L] (integers; mask 1 = real token, 0 = padding) →
     * hidden states [L, dim] F32 on the model's device, every row (padding rows attend to the real keys and are
     * computed too, as upstream). Intermediates go to {@code taps} under the golden names: {@code relative_bucket},
     * {@code pos_bias_layerN}, {@code blockN_out}, {@code hidden_states}.
     */
    public Tensor forward(Tensor ids, Tensor mask, WanTaps taps) {
        long len = checkInputs(ids, mask);
        Device device = device();
        try (GradMode.Scope noGrad = GradMode.noGrad(); MemoryScope call = MemoryScope.open()) {
            Tensor bucketTable = T5PositionBuckets.table((int) len, (int) len, config.numBuckets(), config.maxDistance());
            taps.put("relative_bucket", bucketTable);
            Tensor buckets = bucketTable.view(len * len).to(device);
            Tensor keyMask = keyMask(mask, len).to(device);
            Tensor x = tokenEmbedding.lookup(ids.to(device));
            Tensor shared = posEmbedding == null ? null : posEmbedding.bias(buckets, len, len);
            int[] kvLengths = prefixLength(mask);
            for (Umt5Block b : blocks) {
                b.forwardInPlace(x, buckets, keyMask, kvLengths, shared, taps);
            }
            Tensor out = norm.forward(Var.constant(x)).data();
            taps.put("hidden_states", out);
            try (MemoryScope keep = MemoryScope.suspend()) {
                return out.copy();
            }
        }
    }

    /** {@code {n}} when the mask is n ones then only zeros (right padding), else null. */
    private static int[] prefixLength(Tensor mask) {
        Tensor host = mask.to(Device.CPU);
        long n = realTokens(mask);
        for (long i = 0; i < host.numel(); i++) {
            if ((host.getLong(i) != 0) != (i < n)) {
                return null;
            }
        }
        return new int[] {Math.toIntExact(n)};
    }

    /** [1, 1, L] F32 on the host: 0 on real keys, the most negative float on padding. */
    private static Tensor keyMask(Tensor mask, long len) {
        Tensor host = mask.to(Device.CPU);
        float[] m = new float[(int) len];
        for (int i = 0; i < len; i++) {
            m[i] = host.getLong(i) == 0 ? (float) MASKED : 0f;
        }
        return Tensor.of(m, 1, 1, len);
    }

    private long checkInputs(Tensor ids, Tensor mask) {
        if (ids.rank() != 1 || ids.dtype().isFloatingPoint() || mask.rank() != 1 || mask.dtype().isFloatingPoint()
                || mask.size(0) != ids.size(0) || ids.size(0) == 0) {
            throw new IllegalArgumentException("expected input_ids and attention_mask as integer tensors of one equal "
                    + "length L ≥ 1, got input_ids " + ids.dtype().safetensorsName() + " " + ids.shape()
                    + " and attention_mask " + mask.dtype().safetensorsName() + " " + mask.shape());
        }
        Tensor hostIds = ids.to(Device.CPU);
        for (long i = 0; i < ids.size(0); i++) {
            long id = hostIds.getLong(i);
            if (id < 0 || id >= config.vocab()) {
                throw new IllegalArgumentException("input_ids[" + i + "] = " + id + " is outside the vocabulary [0, "
                        + config.vocab() + ")");
            }
        }
        if (realTokens(mask) == 0) {
            throw new IllegalArgumentException("attention_mask has no real token (all zeros); a tokenised text always "
                    + "holds at least </s>");
        }
        return ids.size(0);
    }

    /** Σ mask, checking every value is 0 or 1. */
    private static long realTokens(Tensor mask) {
        Tensor host = mask.to(Device.CPU);
        long n = 0;
        for (long i = 0; i < host.numel(); i++) {
            long v = host.getLong(i);
            if (v != 0 && v != 1) {
                throw new IllegalArgumentException("attention_mask[" + i + "] = " + v + ": expected 0 or 1");
            }
            n += v;
        }
        return n;
    }
}
