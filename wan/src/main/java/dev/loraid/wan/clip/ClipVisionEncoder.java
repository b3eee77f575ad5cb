package dev.loraid.wan.clip;

import dev.loraid.autograd.GradMode;
import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.LayerNorm;
import dev.loraid.autograd.nn.ModuleList;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Wan's CLIP image encoder (spec wan.md §5.4; upstream {@code CLIPModel.visual}: the vision tower of open-clip
 * XLM-RoBERTa-Large ViT-H/14 with {@code use_31_block=True}), inference only: the patches of a 224×224 image
 * ({@code patch_embedding}, a bias-free 14×14 convolution), the class token {@code cls_embedding} in front,
 * {@code pos_embedding} added, {@code pre_norm}, then the first {@link ClipVisionConfig#usedLayers()} blocks of
 * {@code transformer}; no post-norm, no pooling, no head. The output [257, 1280] is the {@code clip_fea} the 2.1 I2V
 * and FLF2V DiTs take. Linear and norm weights are the checkpoint's tensors in their file dtype (F32 in Wan's file, F16
 * or BF16 in a half-precision conversion); the embeddings are widened to F32 once; the math runs in F32 (upstream
 * autocasts to fp16 on a GPU, F32 on a CPU).
 */
public final class ClipVisionEncoder extends Module {
    private final ClipVisionConfig config;
    private final PatchConvolution patchEmbedding;
    private final Parameter clsEmbedding;
    private final Parameter posEmbedding;
    private final LayerNorm preNorm;
    private final ModuleList<ClipBlock> transformer;

    /** The module tree of {@code config} with declared (empty) parameters: see {@link #load}. */
    public ClipVisionEncoder(ClipVisionConfig config) {
        this.config = config;
        int d = config.dim();
        this.patchEmbedding = registerModule("patch_embedding", new PatchConvolution(d, config.patch()));
        this.clsEmbedding = registerParameter("cls_embedding", Parameter.declared(DType.F32, 1, 1, d));
        this.posEmbedding = registerParameter("pos_embedding", Parameter.declared(DType.F32, 1, config.tokens(), d));
        this.preNorm = registerModule("pre_norm", LayerNorm.declared(d, ClipVisionConfig.EPS, DType.F32));
        this.transformer = registerModule("transformer", new ModuleList<>());
        for (int i = 0; i < config.usedLayers(); i++) {
            transformer.add(new ClipBlock(config));
        }
    }

    /** {@code patch_embedding}: the bias-free patch convolution, its weight [dim, 3, p, p]. */
    private static final class PatchConvolution extends Module {
        final Parameter weight;

        PatchConvolution(int dim, int patch) {
            this.weight = registerParameter("weight", Parameter.declared(DType.F32, dim, 3, patch, patch));
        }
    }

    /**
     * The encoder over {@code weights} (Wan's names without {@code visual.}): every tensor of the used blocks and the
     * embeddings must be there with its shape; the last block, {@code post_norm} and {@code head} are not read.
     */
    public static ClipVisionEncoder load(ClipVisionConfig config, Map<String, Tensor> weights, String where) {
        Map<String, Tensor> used = new LinkedHashMap<>();
        String unused = "transformer." + config.usedLayers() + ".";
        weights.forEach((k, t) -> {
            if (k.startsWith(unused) || k.startsWith("post_norm.") || k.equals("head") || k.startsWith("head.")) {
                return;
            }
            boolean embedding = k.equals("patch_embedding.weight") || k.equals("cls_embedding") || k.equals("pos_embedding");
            used.put(k, embedding ? widened(t) : t);
        });
        ClipVisionEncoder m = new ClipVisionEncoder(config);
        try {
            m.loadStateDict(StateSource.of(used), true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": not a CLIP vision tower of " + config + ": " + e.getMessage(), e);
        }
        return m;
    }

    private static Tensor widened(Tensor t) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return t.dtype() == DType.F32 ? t : t.to(DType.F32);
        }
    }

    public ClipVisionConfig config() {
        return config;
    }

    /** Moves the weights to {@code device} once, in their dtype. */
    @Override
    public ClipVisionEncoder to(Device device) {
        super.to(device);
        return this;
    }

    /**
     * Upstream's {@code CLIPModel.visual([image])}: {@code image} [3, H, W] in [−1, 1] (any size; resized as
     * {@link ClipImage#of} does) → [{@link ClipVisionConfig#tokens()}, dim] F32 on the model's device.
     */
    public Tensor encode(Tensor image) {
        return forward(ClipImage.of(image, config.imageSize()));
    }

    /**
     * The tower on preprocessed pixels [3, S, S] (S = the image size, normalised as {@link ClipImage} does) →
     * [tokens, dim] F32, outside any memory scope.
     */
    public Tensor forward(Tensor pixels) {
        int s = config.imageSize();
        if (pixels.rank() != 3 || pixels.size(0) != 3 || pixels.size(1) != s || pixels.size(2) != s) {
            throw new IllegalArgumentException("CLIP pixels are " + pixels.shape() + ", expected [3, " + s + ", " + s + "]");
        }
        Device device = device();
        int d = config.dim();
        int p = config.patch();
        long n = (long) (s / p) * (s / p);
        try (GradMode.Scope noGrad = GradMode.noGrad(); MemoryScope call = MemoryScope.open()) {
            Var x = Var.constant(pixels.to(DType.F32).to(device).reshape(1, 3, 1, s, s));
            Var patches = Ops.conv3d(x, patchEmbedding.weight.reshape(d, 3, 1, p, p), null, new int[] {1, p, p}, new int[6])
                    .reshape(d, n).transpose(0, 1);
            Var tokens = Ops.concat(List.of(clsEmbedding.reshape(1, d), patches), 0).add(posEmbedding.reshape(n + 1, d));
            Var h = preNorm.forward(tokens);
            for (ClipBlock b : transformer) {
                h = b.forward(h);
            }
            try (MemoryScope outside = MemoryScope.suspend()) {
                return h.data().copy();
            }
        }
    }
}
