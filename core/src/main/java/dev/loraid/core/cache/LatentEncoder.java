package dev.loraid.core.cache;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The VAE side of latent caching (spec vae-t5.md §1.5): a clip of pixels in, its normalised latent out. The Wan VAE
 * implements it; tests use a fake. Frames are images too: an image is a 1-frame clip.
 */
public interface LatentEncoder {
    /**
     * @param video [3, F, H, W] F32 on the host, pixels x/127.5 - 1 in [-1, 1]; F = 4k+1, H and W multiples of
     *              {@link #spatialFactor()}
     * @return the latent [C, (F-1)/4 + 1, H/s, W/s] ((mu - mean) / std per channel), any dtype and device
     */
    Tensor encode(Tensor video);

    /** Pixels per latent position in H and W: 8 (Wan 2.1 VAE), 16 (Wan 2.2 TI2V-5B VAE). */
    default int spatialFactor() {
        return 8;
    }

    /** The dtype the latent is stored in ({@code --vae_dtype}, default BF16); it names the tensor (§4.5). */
    DType dtype();

    /** Encodes clips of one shape together ({@code --batch_size}); the default encodes them one at a time. */
    default List<Tensor> encodeBatch(List<Tensor> videos) {
        List<Tensor> out = new ArrayList<>(videos.size());
        for (Tensor v : videos) {
            out.add(encode(v));
        }
        return out;
    }

    /** torch's name of {@code dtype}, the suffix of upstream's cache keys ({@code latents_1x4x6_bfloat16}). */
    static String torchName(DType dtype) {
        return switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            case F32 -> "float32";
            case F64 -> "float64";
            case I32 -> "int32";
            case I64 -> "int64";
            default -> throw new IllegalArgumentException("no torch dtype name for " + dtype + " in a Wan cache");
        };
    }

    /** The {@code --vae_dtype} spellings upstream accepts (bf16, fp16, fp32, and torch's names). */
    static DType parseDtype(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "bf16", "bfloat16" -> DType.BF16;
            case "fp16", "f16", "float16", "half" -> DType.F16;
            case "fp32", "f32", "float32", "float" -> DType.F32;
            default -> throw new ParameterException(named(param("LatentEncoder.dtype"), " " + name
                    + ": expected bf16, fp16 or fp32"));
        };
    }
}
