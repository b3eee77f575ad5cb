package dev.loraid.wan;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The Wan 2.1/2.2 video DiT (spec wan.md §2; Appendix B is the skeleton): patch embedding, time and text
 * embeddings, {@code num_layers} blocks, head, unpatchify. Weights stay in the checkpoint's dtype as views of the
 * mapped file; the math runs in fp32.
 */
public final class WanModel {
    private final WanConfig config;
    private final Tensor patchWeight;
    private final Tensor patchBias;
    private final TimeEmbedding time;
    private final TextEmbedding text;
    private final List<WanBlock> blocks = new ArrayList<>();
    private final WanHead head;

    /** Builds the model over {@code weights}, which must hold exactly the config's keys (checked, by name). */
    public WanModel(WanConfig config, WanWeights weights) {
        WanKeyCheck.requireMatches(config, weights.shapes(), weights.source());
        if (config.imageBranch()) {
            throw new UnsupportedOperationException(weights.source() + ": the Wan 2.1 CLIP image branch (img_emb, "
                    + "k_img/v_img) is not implemented yet; text-only models (t2v, Wan 2.2, ti2v) are");
        }
        this.config = config;
        long d = config.dim();
        this.patchWeight = weights.get("patch_embedding.weight").view(d, (long) config.inDim() * config.patchVolume());
        this.patchBias = weights.get("patch_embedding.bias");
        this.time = new TimeEmbedding(weights, config);
        this.text = new TextEmbedding(weights, config);
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(new WanBlock(weights, config, i));
        }
        this.head = new WanHead(weights, config);
    }

    public WanConfig config() {
        return config;
    }

    /** One DiT call: the velocity [out_dim, F, H, W] in F32, outside any memory scope. */
    public Tensor forward(WanInputs in) {
        return forward(in, WanTaps.NONE);
    }

    /** As {@link #forward(WanInputs)}, handing the named intermediates to {@code taps} as they are made. */
    public Tensor forward(WanInputs in, WanTaps taps) {
        in.validate(config, "inputs");
        try (MemoryScope step = MemoryScope.open()) {
            Tensor out = forwardScoped(in, taps);
            try (MemoryScope keep = MemoryScope.suspend()) {
                return out.copy();
            }
        }
    }

    private Tensor forwardScoped(WanInputs in, WanTaps taps) {
        int[] grid = in.grid(config);
        Tensor x = WanOps.linear(Patchify.patches(channels(in), config), patchWeight, patchBias, 1.0);
        taps.put("tokens", x);

        TimeEmbedding.Result t = time.forward(in.t().toDoubleArray(), taps);
        Tensor ctx = text.forward(in.context(), taps);

        RopeTables rope = RopeTables.of(config.headDim(), grid[0], grid[1], grid[2]);
        taps.put("rope_cos", rope.cos());
        taps.put("rope_sin", rope.sin());
        for (WanBlock b : blocks) {
            x = b.forward(x, t.e0(), ctx, rope, taps);
        }
        Tensor rows = head.forward(x, t.e());
        taps.put("head_out", rows);
        Tensor out = Patchify.unpatchify(rows, config, grid);
        taps.put("output", out);
        return out;
    }

    /** x, or x and y concatenated along channels (§2.0: [noise | mask | image latent]). */
    private static Tensor channels(WanInputs in) {
        if (in.y() == null) {
            return in.x();
        }
        Tensor x = in.x();
        Tensor cat = Tensor.empty(x.device(), DType.F32, in.channels(), x.size(1), x.size(2), x.size(3));
        x.backend().copy(x, cat.narrow(0, 0, x.size(0)));
        x.backend().copy(in.y(), cat.narrow(0, x.size(0), in.y().size(0)));
        return cat;
    }
}
