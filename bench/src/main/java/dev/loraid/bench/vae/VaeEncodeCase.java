package dev.loraid.bench.vae;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.vae.VaeConfig;
import dev.loraid.wan.vae.VaeRandomWeights;

import java.util.Map;

/**
 * The operands of {@code bench/run vae-encode}, shared by both implementations: a full Wan 2.1 VAE state dict for
 * {@code config} (random, {@link VaeRandomWeights}: conv weights N(0, 1/fan_in), biases 0, gammas 1) and a video
 * [3, frames, height, width] uniform in [-1, 1], all contiguous fp32 from fixed seeds.
 */
public record VaeEncodeCase(VaeConfig config, Map<String, Tensor> weights, Tensor video) {
    /** The real Wan 2.1 VAE (spec vae-t5.md §1.3). */
    public static final VaeConfig REAL = VaeConfig.WAN21;

    public static VaeEncodeCase random(VaeConfig c, int frames, int height, int width, long seed) {
        Tensor video = Tensor.empty(DType.F32, 3, frames, height, width);
        video.backend().randomUniform(video, seed + 1, 0);
        video.backend().binaryScalar(BinaryOp.MUL, video, 2, video);
        video.backend().binaryScalar(BinaryOp.SUB, video, 1, video);
        return new VaeEncodeCase(c, VaeRandomWeights.of(c, seed), video);
    }

    /** Latent frames of the clip: 1 + (T − 1)/4 with the real config. */
    public long latentFrames() {
        return 1 + (video.size(1) - 1) / config.temporalFactor();
    }
}
