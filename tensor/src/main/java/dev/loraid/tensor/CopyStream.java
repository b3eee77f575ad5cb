package dev.loraid.tensor;

import java.util.List;

/**
 * Copies between host and device that run beside a device's compute instead of in line with it (block swap,
 * training.md §3.5: the next blocks' weights come in while the current ones run; checkpointed activations go out to
 * host memory and come back for the backward pass). A copy starts once the work already enqueued for the device is done
 * with its source and destination, and the device's later work waits for it only where {@link Fence#awaitOnCompute}
 * is called; neither makes the host wait. On CUDA the copies run on a stream of their own, ordered by events, from and
 * to page-locked host memory ({@link #pinned}, {@link #hostBuffer}); on the CPU ({@link #SYNCHRONOUS}) they are plain
 * copies made at once.
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
     * An uninitialised host tensor that copies to and from the device can use asynchronously ({@link
     * #copyToHostAfterCompute}): page-locked on CUDA (freed when unreachable); ordinary memory, outside every memory
     * scope, where copies are synchronous. Meant to be kept and reused: page-locking memory is slow.
     */
    default Tensor hostBuffer(DType dtype, long... shape) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return Tensor.empty(Device.CPU, dtype, shape);
        }
    }

    /**
     * Copies each device tensor of {@code sources} into the host tensor at the same index of {@code destinations} (from
     * {@link #hostBuffer}) once the work enqueued so far has written the sources; returns at once. The sources must not
     * be written, nor their memory reused, before the returned fence is awaited; the destinations are ready for copies
     * back on this stream at once. Here: plain copies made now.
     */
    default Fence copyToHostAfterCompute(List<Tensor> sources, List<Tensor> destinations) {
        checkPairs(destinations, sources, false);
        for (int i = 0; i < sources.size(); i++) {
            destinations.get(i).backend().copy(sources.get(i), destinations.get(i));
        }
        return () -> { };
    }

    /**
     * Checks the arguments of a copy between {@code host} tensors and {@code device} tensors (either direction), naming
     * the pair at fault: host tensors on the host side, the same dtype and shape on both, both contiguous where
     * {@code contiguous} (a stream that copies raw bytes).
     */
    static void checkPairs(List<Tensor> host, List<Tensor> device, boolean contiguous) {
        if (host.size() != device.size()) {
            throw new IllegalArgumentException(host.size() + " host tensors for " + device.size() + " device tensors");
        }
        for (int i = 0; i < host.size(); i++) {
            Tensor h = host.get(i);
            Tensor d = device.get(i);
            if (!h.device().isCpu() || h.dtype() != d.dtype() || !h.shape().equals(d.shape())
                    || contiguous && !(h.isContiguous() && d.isContiguous())) {
                throw new IllegalArgumentException("copy " + i + ": needs a host tensor and a tensor of the same dtype and shape"
                        + (contiguous ? ", both contiguous" : "") + ", got " + h + " and " + d);
            }
        }
    }
}
