package dev.loraid.wan;

import dev.loraid.autograd.Recompute;
import dev.loraid.autograd.GradMode;
import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.StateSource;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Activation;
import dev.loraid.autograd.nn.ModuleList;
import dev.loraid.autograd.nn.Sequential;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.swap.ActivationOffload;
import dev.loraid.wan.swap.BlockSwap;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The Wan 2.1/2.2 video DiT (spec wan.md §2; Appendix B is the skeleton) as a module tree with the upstream names:
 * {@code patch_embedding}, {@code text_embedding}, {@code time_embedding}, {@code time_projection},
 * {@code blocks.N}, {@code head}. Frozen weights are the checkpoint's tensors adopted as they are (mmapped views in
 * their file dtype, never copied); the math runs in fp32 (fp64 when every input is F64, for gradient checks), or
 * with half-precision activations under mixed precision ({@link #setActivationDType}).
 * {@link #to(Device)} moves the weights to a GPU (once, in their dtype); every op then runs on that device's
 * backend, and only the small host-computed tables (timestep sinusoid, RoPE angles) are uploaded per call.
 *
 * <p>Threads. On the CPU, {@link #forward(WanInputs)} may be called from several threads at once: a call only reads
 * the weights, and its graph mode, memory scope and random stream are the calling thread's own; the CPU kernels of
 * all calls share one pool of one worker per core, so concurrent calls interleave rather than run faster
 * ({@code WanModelThreadsTest}: concurrent calls give the sequential result bit for bit). Not safe while anything
 * changes the model: attaching or detaching LoRA adapters, {@link #to}, {@link #setBf16Residual}, {@link #setActivationDType},
 * {@link #setGradientCheckpointing}, {@link #loadStateDict}; nor are differentiable forwards whose backward passes
 * accumulate into the same parameter gradients (training is single-threaded). A model on a GPU runs every call on
 * its device's one stream: use it from one thread at a time (concurrent use is not supported). In every case the
 * checkpoint the weights were loaded from must stay open (a forward after it closed fails naming the file).
 */
public final class WanModel extends Module {
    private final WanConfig config;
    private final PatchEmbedding patchEmbedding;
    private final Sequential textEmbedding;
    private final Sequential timeEmbedding;
    private final Sequential timeProjection;
    private final ModuleList<WanBlock> blocks;
    private final WanHead head;
    private final ImageEmbedding imageEmbedding;
    private boolean gradientCheckpointing;
    /** The file the weights are views of ({@link #load}), named when it is closed under the model; else null. */
    private String weightsSource;
    private BlockSwap blockSwap;
    private ActivationOffload checkpointOffload;
    private DType activations = DType.F32;

    /** The module tree of {@code config}, with declared (empty) frozen parameters: see {@link #load}. */
    public WanModel(WanConfig config) {
        this.config = config;
        long d = config.dim();
        this.patchEmbedding = registerModule("patch_embedding", new PatchEmbedding(config));
        this.textEmbedding = registerModule("text_embedding",
                Sequential.of(new WanLinear(config.textDim(), d), new WanGelu(), new WanLinear(d, d)));
        this.timeEmbedding = registerModule("time_embedding",
                Sequential.of(new WanLinear(config.freqDim(), d), Activation.silu(), new WanLinear(d, d)));
        this.timeProjection = registerModule("time_projection",
                Sequential.of(Activation.silu(), new WanLinear(d, 6 * d)));
        this.blocks = registerModule("blocks", new ModuleList<>());
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(new WanBlock(config, i));
        }
        this.head = registerModule("head", new WanHead(config));
        this.imageEmbedding = config.imageBranch() ? registerModule("img_emb", new ImageEmbedding(config)) : null;
    }

    /**
     * The model over {@code weights}, which must hold exactly the config's keys (checked first, naming every
     * missing, unexpected or mis-shaped key); fp8 scales are adopted with their weights.
     */
    public static WanModel load(WanConfig config, WanWeights weights) {
        WanKeyCheck.requireMatches(config, weights.shapes(), weights.source());
        WanModel m = new WanModel(config);
        Map<String, Module> modules = m.namedModules();
        weights.shapes().forEach((key, shape) -> {
            if (key.endsWith(WanKeys.SCALE_SUFFIX)) {
                String module = key.substring(0, key.length() - WanKeys.SCALE_SUFFIX.length());
                ((WanLinear) modules.get(module)).expectScale(shape);
            }
        });
        m.loadStateDict(StateSource.of(weights.tensors()), true);
        m.weightsSource = weights.source();
        return m;
    }

    public WanConfig config() {
        return config;
    }

    /**
     * Spec §2.11: the official Wan code keeps the residual stream in fp32 (the default here); musubi rounds it to
     * bf16 after every residual add. Turn this on to reproduce musubi's rounding (parity checks).
     */
    public void setBf16Residual(boolean on) {
        blocks.forEach(b -> b.setBf16Residual(on));
    }

    /**
     * Mixed precision ({@code --mixed_precision}, training.md §3.4), the rules of upstream's bf16 autocast (spec
     * wan.md §2.11 and the paragraph after its table): with {@code activations} BF16 or F16, every Linear of the
     * text and image embeddings, the blocks and the head takes its input in that dtype and writes its output in it
     * (the GEMMs accumulate in fp32), and attention runs on half-precision q, k, v (its log-sum-exp in fp32).
     * Everything else stays fp32 as upstream keeps it: the time MLPs (§2.4, an explicit fp32 autocast region), the
     * patch embedding, LayerNorm and RMSNorm (statistics and outputs), RoPE (applied in fp32, then q and k cast),
     * the modulation and gated adds, and the residual stream (fp32 after the first gated add, §2.11; see
     * {@link #setBf16Residual} for musubi's rounding); the output is cast back to fp32. LoRA adapters keep fp32
     * weights and gradients; their GEMMs take the half-precision input and add into the layer's half output.
     * F32 (the default) computes everything in fp32; F64 inputs (gradient checks) are never narrowed.
     */
    public void setActivationDType(DType activations) {
        if (activations != DType.F32 && activations != DType.BF16 && activations != DType.F16) {
            throw new IllegalArgumentException("activation dtype " + activations + ": expected F32, BF16 or F16");
        }
        DType half = activations == DType.F32 ? null : activations;
        List<Module> halfParts = new ArrayList<>(List.of(textEmbedding, blocks, head));
        if (imageEmbedding != null) {
            halfParts.add(imageEmbedding);
        }
        for (Module part : halfParts) {
            for (Module m : part.namedModules().values()) {
                switch (m) {
                    case WanLinear l -> l.setActivations(half);
                    case WanSelfAttention a -> a.setActivations(half);
                    case WanCrossAttention a -> a.setActivations(half);
                    case WanBlock b -> b.setActivations(half);
                    default -> { }
                }
            }
        }
        this.activations = activations;
    }

    /** The activation dtype set by {@link #setActivationDType}: F32 (the default), BF16 or F16. */
    public DType activationDType() {
        return activations;
    }

    /**
     * With checkpointing on, the differentiable forward keeps only each block's input (the residual stream); the
     * block's activations are recomputed during the backward pass (autograd's {@link Recompute},
     * {@link WanBlock#forwardRecomputed}; spec training.md §3.5, block-level as upstream). Gradients are the same;
     * intermediates inside blocks are then not tapped.
     */
    public void setGradientCheckpointing(boolean on) {
        this.gradientCheckpointing = on;
    }

    /**
     * {@code --gradient_checkpointing_cpu_offload}: with checkpointing on, the blocks' inputs wait for the backward pass
     * in host memory ({@link ActivationOffload}); null (the default) keeps them on the device.
     */
    public void setCheckpointOffload(ActivationOffload offload) {
        this.checkpointOffload = offload;
    }

    /**
     * {@code --blocks_to_swap} (training.md §3.5): set by {@link BlockSwap#install}, which then moves the blocks'
     * weights in and out of the device around each block's forward and backward; null (the default) for none.
     */
    public void setBlockSwap(BlockSwap swap) {
        this.blockSwap = swap;
    }

    /** The block swap in use, or null. */
    public BlockSwap blockSwap() {
        return blockSwap;
    }

    /** The transformer blocks, in order (what LORAID slices). */
    public List<WanBlock> blocks() {
        return blocks.asList();
    }

    /**
     * One DiT call without a graph: the velocity [out_dim, F, H, W] on the model's {@link #device()}, outside any
     * memory scope. Inputs on another device (e.g. read from a file on the CPU) are copied to the model's first.
     */
    public Tensor forward(WanInputs in) {
        return forward(in, WanTaps.NONE);
    }

    /**
     * As {@link #forward(WanInputs)}, handing the named intermediates (on the model's device) to {@code taps} as
     * they are made. The residual stream is updated in place block by block, each sub-block's temporaries released
     * as it ends. Blocks listed in {@link WanInputs#skipBlocks()} are not run.
     */
    public Tensor forward(WanInputs inputs, WanTaps taps) {
        requireWeightsOpen();
        inputs.validate(config, "inputs");
        try (GradMode.Scope noGrad = GradMode.noGrad(); MemoryScope step = MemoryScope.open()) {
            WanInputs in = inputs.to(device());
            Var latent = Var.constant(in.x());
            if (in.y() != null) {
                latent = Ops.concat(List.of(latent, Var.constant(in.y())), 0);
            }
            Tensor x = embedTokens(latent, taps).data();
            Var clip = in.clip() == null ? null : Var.constant(in.clip());
            Conditioning c = condition(latent, in.t().toDoubleArray(), Var.constant(in.context()), clip, in.framePositions(),
                    taps);
            for (int i = 0; i < blocks.size(); i++) {
                WanBlock b = blocks.get(i);
                // skip-layer guidance: a skipped block leaves x as it is (a block swap still moves past it)
                Runnable run = in.skipBlocks().contains(i) ? () -> { }
                        : () -> b.forwardInPlace(x, c.e0(), c.ctx(), c.rope(), taps);
                if (blockSwap == null) {
                    run.run();
                } else {
                    blockSwap.forwardInPlace(i, run);
                }
            }
            Tensor out = output(Var.constant(x), c, taps).data();
            try (MemoryScope keep = MemoryScope.suspend()) {
                return out.copy();
            }
        }
    }

    /**
     * The differentiable DiT call (for training and gradient checks), in the caller's graph mode and memory scope.
     * The inputs must be on the model's {@link #device()} (moving a leaf would cut its gradient).
     *
     * @param latent  [in_dim, F, H, W] (noise latent, then the I2V conditioning channels)
     * @param t       one timestep, or one per token (Wan 2.2, §2.4), on the 0..1000 scale
     * @param context [L ≤ text_len, text_dim], unpadded
     * @param clip    CLIP tokens [257 or 514, 1280] for the 2.1 image branch, else null
     * @return the velocity [out_dim, F, H, W]
     */
    public Var forward(Var latent, double[] t, Var context, Var clip, WanTaps taps) {
        requireClip(clip != null);
        requireWeightsOpen();
        Device device = device();
        requireOn(device, "latent", latent);
        requireOn(device, "context", context);
        requireOn(device, "clip_fea", clip);
        Var x = embedTokens(latent, taps);
        Conditioning c = condition(latent, t, context, clip, null, taps);
        return output(blocks(x, c, taps), c, taps);
    }

    /**
     * The differentiable DiT call on B samples of one latent shape (one bucket, training.md §4.4) at once: the
     * same result as B calls of {@link #forward(Var, double[], Var, Var, WanTaps)}, but every GEMM covers all B·L
     * tokens. Each sample keeps its own timesteps, context and CLIP tokens; attention never mixes samples (spec
     * wan.md §2: "batching is a straightforward extension"). Gradient checkpointing applies as to one sample; under
     * {@code GradMode.noGrad()} this is a batched inference call (no graph is kept). Intermediates are not tapped.
     *
     * @param latents  [B, in_dim, F, H, W], on the model's {@link #device()}
     * @param t        per sample one timestep, or one per token (Wan 2.2, §2.4), on the 0..1000 scale
     * @param contexts per sample [L_b ≤ text_len, text_dim], unpadded (the lengths may differ)
     * @param clips    per sample CLIP tokens [257 or 514, 1280] for the 2.1 image branch, else null
     * @return the velocities [B, out_dim, F, H, W]
     */
    public Var forwardBatch(Var latents, double[][] t, List<Var> contexts, List<Var> clips) {
        if (latents.rank() != 5) {
            throw new IllegalArgumentException("latents " + latents.shape() + ": expected [B, in_dim, F, H, W]");
        }
        long b = latents.size(0);
        if (t.length != b || contexts.size() != b || (clips != null && clips.size() != b)) {
            throw new IllegalArgumentException("a batch of " + b + " latents needs as many timestep arrays (got " + t.length
                    + "), contexts (got " + contexts.size() + ")" + (clips == null ? "" : " and clip_fea (got " + clips.size() + ")"));
        }
        requireClip(clips != null);
        requireWeightsOpen();
        Device device = device();
        requireOn(device, "latents", latents);
        for (int i = 0; i < b; i++) {
            requireOn(device, "contexts[" + i + "]", contexts.get(i));
            if (clips != null && clips.get(i) == null) {
                throw new IllegalArgumentException("clip_fea[" + i + "] is missing: this " + config.modelType()
                        + " model needs CLIP tokens for every sample");
            }
            requireOn(device, "clip_fea[" + i + "]", clips == null ? null : clips.get(i));
        }
        Var x = patchEmbedding.forward(latents);
        Conditioning c = conditionBatch(latents, t, contexts, clips);
        return output(blocks(x, c, WanTaps.NONE), c, WanTaps.NONE);
    }

    private void requireClip(boolean given) {
        if (given != config.imageBranch() && !(config.funControl() && !given)) {
            throw new IllegalArgumentException(config.imageBranch() ? "this " + config.modelType()
                    + " model needs CLIP tokens (clip_fea)" : "clip_fea given to a model without an image branch");
        }
    }

    /** The residual stream x [(B,) L, D] through every block, checkpointed when that is on. */
    private Var blocks(Var x, Conditioning c, WanTaps taps) {
        ActivationOffload offload = gradientCheckpointing && GradMode.isEnabled() ? checkpointOffload : null;
        if (offload != null) {
            offload.beginPass();
        }
        for (int i = 0; i < blocks.size(); i++) {
            WanBlock b = blocks.get(i);
            UnaryOperator<Var> run = in -> gradientCheckpointing ? b.forwardRecomputed(in, c.e0(), c.ctx(), c.rope(), offload)
                    : b.forward(in, c.e0(), c.ctx(), c.rope(), taps);
            x = blockSwap == null ? run.apply(x) : blockSwap.forward(i, x, run);
        }
        return x;
    }

    /**
     * The weights of a loaded model are views of its checkpoint file: once the file is closed the first GEMM would
     * fail with the FFM's bare "Already closed". Says which file instead.
     */
    private void requireWeightsOpen() {
        if (weightsSource != null && !patchEmbedding.weightStorage().segment().scope().isAlive()) {
            throw new IllegalStateException(weightsSource + " is closed, but this model's weights are views of it: keep "
                    + "the checkpoint (WanCheckpoint) open while the model is used, or move the model to another device");
        }
    }

    /** {@link #forward(Var, double[], Var, Var, WanTaps)} for text-only models (no CLIP tokens). */
    public Var forward(Var latent, double[] t, Var context, WanTaps taps) {
        return forward(latent, t, context, null, taps);
    }

    /** Moves the weights to {@code device} ({@link Module#to(Device)}): a no-op on the device they are on. */
    @Override
    public WanModel to(Device device) {
        super.to(device);
        return this;
    }

    private static void requireOn(Device device, String name, Var v) {
        if (v != null && !v.data().device().equals(device)) {
            throw new IllegalArgumentException(name + " is on " + v.data().device() + " but the model is on " + device
                    + ": place the inputs with Tensor.to(Device) first");
        }
    }

    /**
     * What every block reads: time embedding e [(B,) n, D] and e0 [(B,) n, 6, D] (n = 1 or L), embedded context
     * [(B,) context tokens, D], RoPE angles, grid.
     */
    private record Conditioning(Var e, Var e0, Var ctx, RopeTables rope, int[] grid) {
    }

    private Var embedTokens(Var latent, WanTaps taps) {
        Var x = patchEmbedding.forward(latent);
        taps.put("tokens", x.data());
        return x;
    }

    private Conditioning condition(Var latent, double[] t, Var context, Var clip, int[] framePositions, WanTaps taps) {
        int[] grid = grid(latent);
        DType math = latent.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Device device = latent.data().device();
        // §2.4: the MLPs run once per distinct timestep; a uniform t (2.1, or a 2.2 call with one t) stays one row,
        // broadcast over the tokens; per-token timesteps (TI2V: frame 0 at t = 0) are spread back to [L, …]
        double[] distinct = Arrays.stream(t).distinct().toArray();
        TimeRows time = timeRows(distinct, math, device);
        Var sinusoid = time.sinusoid();
        Var e = time.e();
        Var e0 = time.e0();
        if (distinct.length > 1) {
            sinusoid = perToken(sinusoid, t, distinct);
            e = perToken(e, t, distinct);
            e0 = perToken(e0, t, distinct);
        }
        taps.put("sinusoid", sinusoid.data());
        taps.put("e", e.data());
        taps.put("e0", e0.data());
        Var ctx = embedContext(padText(context, math), clip, taps);
        RopeTables rope = (framePositions == null ? RopeTables.of(config.headDim(), grid[0], grid[1], grid[2])
                : RopeTables.of(config.headDim(), framePositions, grid[1], grid[2])).to(device);
        taps.put("rope_cos", rope.cos());
        taps.put("rope_sin", rope.sin());
        return new Conditioning(e, e0, ctx, rope, grid);
    }

    /**
     * {@link #condition} for a batch: the time MLPs run once over the distinct timesteps of all samples, then each
     * sample takes its rows (one row, or one per token when any sample has per-token timesteps); the contexts are
     * padded each to text_len and embedded together; one RoPE table serves every sample (one grid).
     */
    private Conditioning conditionBatch(Var latents, double[][] t, List<Var> contexts, List<Var> clips) {
        int[] grid = grid(latents);
        long tokens = (long) grid[0] * grid[1] * grid[2];
        DType math = latents.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Device device = latents.data().device();
        boolean spread = false;
        for (int i = 0; i < t.length; i++) {
            if (t[i].length != 1 && t[i].length != tokens) {
                throw new IllegalArgumentException("t[" + i + "] has " + t[i].length + " timesteps: expected 1 or one per token ("
                        + tokens + ")");
            }
            spread |= Arrays.stream(t[i]).distinct().count() > 1;
        }
        double[] distinct = Arrays.stream(t).flatMapToDouble(Arrays::stream).distinct().toArray();
        TimeRows time = timeRows(distinct, math, device);
        List<Var> e = new ArrayList<>();
        List<Var> e0 = new ArrayList<>();
        List<Var> padded = new ArrayList<>();
        for (int i = 0; i < t.length; i++) {
            e.add(sampleRows(time.e(), t[i], distinct, spread ? tokens : 1));
            e0.add(sampleRows(time.e0(), t[i], distinct, spread ? tokens : 1));
            padded.add(padText(contexts.get(i), math));
        }
        Var ctx = embedContext(stack(padded), clips == null ? null : stack(clips), WanTaps.NONE);
        RopeTables rope = RopeTables.of(config.headDim(), grid[0], grid[1], grid[2]).to(device);
        return new Conditioning(stack(e), stack(e0), ctx, rope, grid);
    }

    /** The token grid (f, h, w) of a latent [(B,) C, F, H, W]. */
    private int[] grid(Var latent) {
        int r = latent.rank();
        return new int[] {(int) (latent.size(r - 3) / config.patchT()), (int) (latent.size(r - 2) / config.patchH()),
                (int) (latent.size(r - 1) / config.patchW())};
    }

    /** The timestep sinusoid [n, freq_dim], e [n, D] and e0 [n, 6, D] of n distinct timesteps. */
    private record TimeRows(Var sinusoid, Var e, Var e0) {
    }

    private TimeRows timeRows(double[] distinct, DType math, Device device) {
        // the sinusoid and RoPE tables are computed in float64 on the host (as upstream), then uploaded once per call
        Var sinusoid = Var.constant(Sinusoid.tensor(distinct, config.freqDim(), math).to(device));
        Var e = timeEmbedding.forward(sinusoid);
        Var e0 = timeProjection.forward(e).reshape(distinct.length, 6, config.dim());
        return new TimeRows(sinusoid, e, e0);
    }

    /** One sample's rows of {@code table}: [rows, …], its one timestep's row expanded, or its per-token rows. */
    private static Var sampleRows(Var table, double[] t, double[] distinct, long rows) {
        if (Arrays.stream(t).distinct().count() > 1) {
            return perToken(table, t, distinct);
        }
        long[] dims = table.shape().toArray();
        dims[0] = rows;
        return table.narrow(0, indexOf(distinct, t[0]), 1).expand(dims);
    }

    /** The padded context [(B,) text_len, text_dim] through text_embedding, after the CLIP tokens when given. */
    private Var embedContext(Var padded, Var clip, WanTaps taps) {
        Var ctx = textEmbedding.forward(padded);
        taps.put("context_emb", ctx.data());
        if (imageEmbedding != null && clip != null) {
            // §2.6: image tokens first; cross-attention splits at total − text_len (pitfall 13)
            Var img = imageEmbedding.forward(clip);
            taps.put("clip_emb", img.data());
            ctx = Ops.concat(List.of(img, ctx), ctx.rank() - 2);
        }
        return ctx;
    }

    /** [x0, x1, …] each [...] → [B, ...]. */
    private static Var stack(List<Var> xs) {
        return Ops.concat(xs.stream().map(x -> x.unsqueeze(0)).toList(), 0);
    }

    private Var output(Var x, Conditioning c, WanTaps taps) {
        Var rows = head.forward(x, c.e());
        if (WanOps.isHalf(rows.dtype())) {
            rows = Ops.cast(rows, DType.F32); // §2.11: the head's half output, then fp32
        }
        taps.put("head_out", rows.data());
        Var out = PatchEmbedding.unpatchify(rows, config, c.grid());
        taps.put("output", out.data());
        return out;
    }

    /** Row i of the result is the row of {@code rows} whose timestep is t[i]; runs of equal t become one expand. */
    private static Var perToken(Var rows, double[] t, double[] distinct) {
        List<Var> parts = new ArrayList<>();
        for (int start = 0; start < t.length; ) {
            int end = start;
            while (end < t.length && t[end] == t[start]) {
                end++;
            }
            long[] dims = rows.shape().toArray();
            dims[0] = end - start;
            parts.add(rows.narrow(0, indexOf(distinct, t[start]), 1).expand(dims));
            start = end;
        }
        return parts.size() == 1 ? parts.getFirst() : Ops.concat(parts, 0);
    }

    private static int indexOf(double[] values, double v) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] == v) {
                return i;
            }
        }
        throw new IllegalStateException("timestep " + v + " not among " + Arrays.toString(values));
    }

    /** §2.5: zero rows up to text_len; cross-attention attends to them all (no mask, pitfall 9). */
    private Var padText(Var context, DType math) {
        long missing = config.textLen() - context.size(0);
        if (missing == 0) {
            return context;
        }
        Tensor zeros = Tensor.zeros(context.data().device(), math, missing, config.textDim());
        return Ops.concat(List.of(context, Var.constant(zeros)), 0);
    }
}
