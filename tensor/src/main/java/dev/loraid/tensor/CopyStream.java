package dev.loraid.tensor;

import java.util.List;

/**
 * Host-to-device copies that run beside a device's compute instead of in line with it (block swap, training.md §3.5:
 * the next blocks' weights come in while the current ones run). A copy starts once the work already enqueued for the
 * device is done with its destination, and the device's later work waits for it only where {@link Fence#awaitOnCompute}
 * is called; neither makes the host wait. On CUDA the copies run on a stream of their own, ordered by events, from
 * page-locked host memory ({@link #pinned}); on the CPU ({@link #SYNCHRONOUS}) they are plain copies made at once.
 */
public interface CopyStream {
    /** The point in the copy stream after some copies: the compute waits for it before it reads their destinations. */
    interface Fence {
        /** Makes the device's work enqueued from now on wait until the copies before this fence are done. */
        void awaitOnCompute();
    }

    /** Copies in line with everything else ({@link Backend#copy}), so every fence is already passed. */
    CopyStream SYNCHRONOUS = new CopyStream() {
        @Override
        public Tensor pinned(Tensor host) {
            return host;
        }

        @Override
        public Fence copyAfterCompute(List<Tensor> sources, List<Tensor> destinations) {
            checkPairs(sources, destinations, false);
            for (int i = 0; i < sources.size(); i++) {
                destinations.get(i).backend().copy(sources.get(i), destinations.get(i));
            }
            return () -> { };
        }
    };

    /**
     * The host tensor {@code host} where copies from it can run asynchronously: a contiguous copy in page-locked
     * memory on CUDA (freed when unreachable), {@code host} itself where every copy is synchronous.
     */
    Tensor pinned(Tensor host);

    /**
     * Copies each host tensor of {@code sources} into the device tensor at the same index of {@code destinations}
     * (same dtype and shape; on CUDA both contiguous, as {@link #pinned} makes them) once the work enqueued so far is
     * done with the destinations; returns at once. The destinations must not be read before the returned fence is
     * awaited.
     */
    Fence copyAfterCompute(List<Tensor> sources, List<Tensor> destinations);

    /**
     * Checks {@link #copyAfterCompute}'s arguments, naming the pair at fault: host sources, destinations of the same
     * dtype and shape, both contiguous where {@code contiguous} (a stream that copies raw bytes).
     */
    static void checkPairs(List<Tensor> sources, List<Tensor> destinations, boolean contiguous) {
        if (sources.size() != destinations.size()) {
            throw new IllegalArgumentException(sources.size() + " sources for " + destinations.size() + " destinations");
        }
        for (int i = 0; i < sources.size(); i++) {
            Tensor s = sources.get(i);
            Tensor d = destinations.get(i);
            if (!s.device().isCpu() || s.dtype() != d.dtype() || !s.shape().equals(d.shape())
                    || contiguous && !(s.isContiguous() && d.isContiguous())) {
                throw new IllegalArgumentException("copy " + i + ": needs a host tensor and a tensor of the same dtype and shape"
                        + (contiguous ? ", both contiguous" : "") + ", got " + s + " -> " + d);
            }
        }
    }
}
