package dev.loraid.core.train;

/**
 * Every random stream of a training run, derived from {@code --seed} in this one place (training.md §3.6). Each is a
 * pure function of the seed and of counters the run state records (epoch, micro-step, sample), never a generator that
 * carries state from one step to the next: a run resumed from a {@link RunState} draws exactly what the uninterrupted
 * run drew, and the device streams (noise, dropout masks) are the backend's counter-based generator, which gives the
 * same numbers on the CPU and the GPU.
 * <ul>
 *   <li>data order: {@code DatasetGroup.batches(dataOrder(seed), epoch)};</li>
 *   <li>LoRA init (down ~ U(±1/√in)): {@link #loraInit};</li>
 *   <li>timesteps: one {@link HostRandom} key, {@link #timesteps}; the sampler keys each draw by the global sample
 *       index (so timestep buckets stratify across batches);</li>
 *   <li>noise: {@code Backend.randomNormal(dst, noise(seed, microStep, sample), 0)};</li>
 *   <li>dropouts (neuron, rank, module): autograd's {@code Rng} stream reseeded per micro-batch with {@link #dropout}
 *       (the micro-batch is one DiT call);</li>
 *   <li>validation noise: {@link #validationNoise}, independent of {@code --seed} so that runs and LoRAs compare.</li>
 * </ul>
 */
public final class RandomStreams {
    /** The root of the validation streams: fixed, so every run and every LoRA sees the same validation noise. */
    private static final long VALIDATION_ROOT = 0x6c6f72616964L; // "loraid"

    private RandomStreams() {
    }

    public static long dataOrder(long seed) {
        return HostRandom.key(seed, "data_order");
    }

    public static long loraInit(long seed) {
        return HostRandom.key(seed, "lora_init");
    }

    public static HostRandom timesteps(long seed) {
        return new HostRandom(HostRandom.key(seed, "timesteps"));
    }

    public static long noise(long seed, long microStep, int sample) {
        return HostRandom.key(seed, "noise", microStep, sample);
    }

    public static long dropout(long seed, long microStep) {
        // keyed as sample 0 of the micro-step: batch-1 runs draw what they drew when the streams were per sample
        return HostRandom.key(seed, "dropout", microStep, 0);
    }

    public static long validationNoise(long item, int sigmaIndex) {
        return HostRandom.key(VALIDATION_ROOT, "validation_noise", item, sigmaIndex);
    }
}
