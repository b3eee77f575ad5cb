package dev.loraid.tensor.cuda;

import java.util.Locale;

/**
 * Which kernels run a CUDA attention call. {@code -Dloraid.cuda.attention=auto|cudnn|flash|mma|scalar} sets the
 * backend's default (auto: the fastest path that takes the call). An explicit path that cannot take a call (dtype,
 * head dim, layout) falls back to the next one in {@link #fallback()}, down to {@link #SCALAR}, which takes every call.
 */
enum AttentionPath {
    /**
     * The fastest eligible path: cuDNN, then FLASH, MMA, SCALAR. Measured on an H100 (bench/RESULTS.md, Wan 14B
     * self-attention, BF16): cuDNN 573 TFLOP/s forward and 545 backward, against 46 and 57 for MMA.
     */
    AUTO,
    /** cuDNN's fused flash attention (libcudnn 9, runtime-fused SDPA graphs). */
    CUDNN,
    /** attention_flash*.cu: FlashAttention-2 on mma.sync with ldmatrix and cp.async pipelining. */
    FLASH,
    /** attention_mma*.cu: the first tensor-core kernels (no pipelining). */
    MMA,
    /** attention.cu: scalar fp32/f64 kernels, every dtype, head dim and layout. */
    SCALAR;

    static final String PROPERTY = "loraid.cuda.attention";

    /** The path tried when this one cannot take a call. */
    AttentionPath fallback() {
        return switch (this) {
            case AUTO -> CUDNN;
            case CUDNN -> FLASH;
            case FLASH -> MMA;
            case MMA, SCALAR -> SCALAR;
        };
    }

    /** The default of this process: {@code -Dloraid.cuda.attention}, else {@link #AUTO}. */
    static AttentionPath fromProperty() {
        String v = System.getProperty(PROPERTY, "auto").trim().toUpperCase(Locale.ROOT);
        try {
            return valueOf(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + v.toLowerCase(Locale.ROOT)
                + ": expected auto, cudnn, flash, mma or scalar");
        }
    }
}
