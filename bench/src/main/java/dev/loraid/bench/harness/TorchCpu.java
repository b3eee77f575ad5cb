package dev.loraid.bench.harness;

import dev.loraid.bench.train.TrainStepCase;
import dev.loraid.bench.umt5.Umt5LayerCase;
import dev.loraid.bench.vae.VaeEncodeCase;
import dev.loraid.bench.wanblock.WanBlockCase;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * PyTorch's CPU kernels loaded into this JVM (through DJL; the implementation lives in {@code src/djl/} and is
 * compiled only with the {@code djl} Maven profile, found here through {@link ServiceLoader}). Each method
 * prepares random operands and returns the operation as a {@link Workload} to time; fp32 throughout (bf16
 * aborts the JVM in DJL 0.36, see pytorch-cpu-anchor.md).
 */
public interface TorchCpu extends AutoCloseable {
    /** Starts the engine with {@code threads} intra-op threads; describes the build in the log. */
    void start(int threads, PrintStream log);

    /** {@code a [m, k] @ b [k, n]}, b row-major, a fresh output per call (PyTorch's usual way). */
    Workload matmul(int m, int k, int n);

    /** The product of given row-major operands, for a cross-check of our result. */
    float[] matmul(float[] a, float[] b, int m, int k, int n);

    /**
     * Attention over {@code heads} heads of {@code tokens} x {@code headDim}: {@code softmax(q·kᵀ·scale)·v}
     * composed from matmul, mul, softmax, matmul, on contiguous [heads, tokens, headDim] operands.
     */
    Workload attention(int tokens, int heads, int headDim);

    /**
     * The same attention through PyTorch's fused {@code scaled_dot_product_attention} (on CPU ATen's flash kernel;
     * DJL exposes no SDPA, so it runs as a TorchScript module, see {@link TorchScriptArchive}), on
     * [1, tokens, heads, headDim] memory seen as [1, heads, tokens, headDim] as ours is; logs which ATen kernel
     * the operands get.
     */
    Workload fusedAttention(int tokens, int heads, int headDim);

    /**
     * {@link #fusedAttention(int, int, int)} of given row-major [tokens, heads, headDim] operands, scale 1/√headDim;
     * the result in the same [tokens, heads, headDim] order, for a cross-check of ours.
     */
    float[] fusedAttention(float[] q, float[] k, float[] v, int tokens, int heads, int headDim);

    /**
     * Forward and backward of a LoRA-wrapped Linear ([tokens, in] → out, rank r, frozen fp32 base, input gradient
     * required), as the explicit products PyTorch's autograd runs: y = x·Wᵀ + (x·Dᵀ)·Uᵀ; dx, dD, dU from a
     * given dy.
     */
    Workload linearTrain(int tokens, int in, int out, int rank);

    /**
     * One Wan DiT block (spec wan.md §2.7) composed from NDArray ops, forward and backward to its input x through
     * PyTorch's autograd, with the case's weights frozen: {@code run()} is one forward + backward.
     */
    BlockRun wanBlock(WanBlockCase c);

    /**
     * One LoRA training step of a whole Wan model (patch, text and time embeddings, the blocks, the head) composed
     * from NDArray ops, fp32 with the case's weights frozen and a rank-r {@code module} network on every Linear of
     * every block: flow-matching forward, MSE loss, autograd backward, global-norm clipping and AdamW on the network's
     * weights. LoHa and LoKr as musubi's networks/loha.py and lokr.py compute them ({@code y = x·Wᵀ + b + x·ΔWᵀ·s}, ΔW
     * built from the factors in the forward pass, PyTorch's autograd through it), initialised as upstream.
     * {@code run()} is one step; {@link TrainRun#lastLoss()} the loss of the last one.
     */
    TrainRun wanTrainStep(TrainStepCase c, dev.loraid.core.lora.NetworkModule module);

    /**
     * Text-to-video sampling with the case's model (the forward of {@link #wanTrainStep} without a network, fp32): UniPC
     * (bh2, order 2, {@code FlowSchedule.unipc(steps, shift)}) written out with NDArray ops, CFG with both passes each
     * step ({@code v = v_u + guidance·(v_c − v_u)}, cond = the case's T5 states, uncond = {@code negativeT5}), from the
     * case's latents as the starting noise. {@code run()} is one whole sample.
     */
    SampleRun wanSample(TrainStepCase c, float[] negativeT5, int steps, double shift, double guidance);

    /**
     * The Wan 2.1 VAE encoder (spec vae-t5.md §1) over the case's video, chunked with the feature cache as upstream's
     * {@code WanVAE_.encode} runs it: {@code run()} is one encode, {@link OutputRun#output()} [mu; log-var].
     */
    OutputRun vaeEncode(VaeEncodeCase c);

    /**
     * The UMT5 encoder of the case (embedding, relative position bias, its layers, final norm; spec vae-t5.md §3):
     * {@code run()} is one forward over the case's ids, {@link OutputRun#output()} the hidden states [L, dim].
     */
    OutputRun umt5Layer(Umt5LayerCase c);

    /**
     * Wan's CLIP vision tower of the case (patches, class token, positions, pre-norm, all but the last block; spec wan.md
     * §5.4) in fp32: {@code run()} is one forward over the case's pixels, {@link OutputRun#output()} the tokens [257, dim].
     */
    OutputRun clipVision(dev.loraid.bench.clip.ClipCase c);

    /**
     * One weight of a LoRA merge as upstream merges it (the weight in fp32, {@code W += scale · (U @ D)}, eager
     * PyTorch ops): {@code w} [out, in] fp32 is updated in place from {@code up} [out, rank] and {@code down}
     * [rank, in], all fp32 little-endian host memory. Each call copies the operands into PyTorch tensors and the
     * result back, as {@code weight.to(float)} and {@code .to(dtype)} do upstream (bf16 itself cannot be used:
     * pytorch-cpu-anchor.md, pitfall 2).
     */
    void loraMerge(MemorySegment w, MemorySegment up, MemorySegment down, int out, int in, int rank, float scale);

    @Override
    void close();

    /** A timed sampling run that can also time one model call alone and hand back its final latent. */
    interface SampleRun extends Workload {
        /** One DiT forward (cond branch, first timestep, from the starting noise), as a workload of its own. */
        Workload forwardOnly();

        /** The final latent of the last {@link #run()}, [C, F, H, W] flattened. */
        float[] latent();
    }

    /** A timed call that can also hand back what it computed. */
    interface OutputRun extends Workload {
        /** One more call's result, as floats in row-major order. */
        float[] output();
    }

    /** A timed block call that can also hand back what it computed. */
    interface BlockRun extends Workload {
        /** {output [L, D], gradient of Σ output with respect to x [L, D]} of one forward and backward. */
        float[][] outputs();
    }

    /** A timed training step that reports its loss. */
    interface TrainRun extends Workload {
        double lastLoss();
    }

    /** One timed operation and the native memory it holds. */
    interface Workload extends AutoCloseable {
        void run();

        @Override
        void close();

        /** The workload that runs {@code run} and closes with {@code close}. */
        static Workload of(Runnable run, Runnable close) {
            return new Workload() {
                @Override
                public void run() {
                    run.run();
                }

                @Override
                public void close() {
                    close.run();
                }
            };
        }
    }

    /** The DJL implementation when it is on the classpath, started with {@code threads} threads. */
    static Optional<TorchCpu> load(int threads, PrintStream log) {
        Optional<TorchCpu> t = ServiceLoader.load(TorchCpu.class).findFirst();
        if (t.isEmpty()) {
            log.println("pytorch: not on the classpath (build with -Pdjl, as bench/run does); its figures are n/a");
            return t;
        }
        t.get().start(threads, log);
        return t;
    }
}
