package dev.loraid.wan.swap;

import dev.loraid.autograd.Recompute;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.CopyStream;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --gradient_checkpointing_cpu_offload} (training.md §3.5): the checkpointed blocks' inputs, one residual stream
 * per block, wait for the backward pass in host memory instead of on the device. A block's input goes out on the
 * device's {@link CopyStream} while the next block computes, and its device memory is given back to the step's scope
 * once that block is done (the last block's input stays); in the backward pass a block's input comes back while the
 * block after it recomputes, and is given back when its own backward is done. So the device holds about three
 * residual streams instead of one per block. Upstream copies synchronously in line with the compute; the result is the
 * same tensors either way.
 *
 * <p>Host buffers are page-locked (slow to make), so they are kept and reused from one step to the next. One
 * instance serves one model: {@link #beginPass()} starts the stashes of a forward pass; two passes may be pending at
 * once (their stashes do not share buffers).
 */
public final class ActivationOffload implements Recompute.Offload {
    private final CopyStream copies;
    private final boolean poison;
    /** Host buffers no stash holds, ready for the next ones. */
    private final List<Tensor> free = new ArrayList<>();
    /** The stash made last in the current pass: the one whose device copy is given back by the next stash. */
    private Entry last;

    /**
     * @param poison fill each device input with NaN just before its memory is given back (tests: a block that read it
     *               afterwards instead of the restored copy would show)
     */
    ActivationOffload(CopyStream copies, boolean poison) {
        this.copies = copies;
        this.poison = poison;
    }

    /** Offloading to the host from {@code device}, through its copy stream. */
    public static ActivationOffload to(Device device) {
        return new ActivationOffload(Backends.of(device).copyStream(), false);
    }

    /** A new forward pass: its first stash has no predecessor. */
    public void beginPass() {
        last = null;
    }

    @Override
    public Recompute.Stash stash(Tensor input) {
        Tensor host = take(input);
        CopyStream.Fence out = copies.copyToHostAfterCompute(List.of(input), List.of(host));
        Entry e = new Entry(input, host, out, last);
        if (last != null) {
            last.leaveDevice(); // its copy ran while this block computed
        }
        last = e;
        return e;
    }

    /** A free host buffer shaped like {@code t}, or a new one. */
    private Tensor take(Tensor t) {
        for (int i = 0; i < free.size(); i++) {
            Tensor h = free.get(i);
            if (h.dtype() == t.dtype() && h.shape().equals(t.shape())) {
                return free.remove(i);
            }
        }
        return copies.hostBuffer(t.dtype(), t.shape().toArray());
    }

    /** One block's input: on the device until the next block is done, in host memory until its backward is. */
    private final class Entry implements Recompute.Stash {
        private final Device where;
        private final Tensor host;
        private final CopyStream.Fence out;
        private final Entry previous;
        /** The input on the device: the original until it leaves, then the copy brought back, or null. */
        private Tensor device;
        /** The copy bringing the input back, once started. */
        private CopyStream.Fence in;

        Entry(Tensor device, Tensor host, CopyStream.Fence out, Entry previous) {
            this.where = device.device();
            this.device = device;
            this.host = host;
            this.out = out;
            this.previous = previous;
        }

        /** Gives the original's device memory back once its copy to the host is done (when it owns its storage). */
        void leaveDevice() {
            out.awaitOnCompute();
            if (device.spansStorage()) {
                if (poison) {
                    device.backend().fill(device, Double.NaN);
                }
                MemoryScope.release(device, 0);
            }
            device = null;
        }

        @Override
        public Tensor restore() {
            fetch();
            in.awaitOnCompute();
            if (previous != null) {
                previous.fetch(); // comes in while this block recomputes
            }
            return device;
        }

        /** Starts bringing the input back into memory of the current scope, unless it never left. */
        void fetch() {
            if (in != null) {
                return;
            }
            if (device == null) {
                device = Tensor.empty(where, host.dtype(), host.shape().toArray());
                in = copies.copyAfterCompute(List.of(host), List.of(device));
            } else {
                in = () -> { };
            }
        }

        @Override
        public void discard() {
            if (device != null && device.spansStorage()) {
                MemoryScope.release(device, 0);
            }
            device = null;
            free.add(host);
        }
    }
}
