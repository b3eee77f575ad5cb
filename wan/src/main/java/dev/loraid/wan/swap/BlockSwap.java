package dev.loraid.wan.swap;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.Ops;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.CopyStream;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanBlock;
import dev.loraid.wan.WanModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * {@code --blocks_to_swap N} carried out (training.md §3.5): every block's frozen weights stay in host memory (the
 * checkpoint's tensors); {@code R = n − N} slots of device memory, each shaped like one block's weights, hold the blocks
 * that {@link BlockSwapSchedule} says are resident. A block leaving the device just lets go of its slot (its weights
 * are frozen: nothing is copied back); the block coming in is copied into that slot and its parameters adopt the
 * slot's tensors, so the device never holds more than {@code R} blocks and no device memory is allocated after
 * {@link #install}. An evicted block's parameters are unloaded ({@link Parameter#release}): running it by mistake fails
 * loudly instead of reading another block's weights.
 *
 * <p>The model calls {@link #forward} around each block; hooks on the block's input and output ({@link Ops#onBackward})
 * tell when its backward pass starts and ends. A block coming in is copied on the device's {@link CopyStream} (on
 * CUDA a stream of its own, from page-locked copies of the host weights made at install): the copy starts once the
 * work already enqueued is done with the slot (the evicted block's kernels), and the block's first use, {@code R}
 * blocks later, waits for the copy's fence, so the transfer runs while the blocks in between compute. On the CPU
 * the copies are made at once.
 */
public final class BlockSwap {
    /** Told of every move (tests, the benchmark's transfer count). */
    public interface Listener {
        Listener NONE = (evict, fetch) -> { };

        void swapped(int evict, int fetch);
    }

    /**
     * {@code -Dloraid.swap.synchronous=true}: blocks come in by plain copies in line with the compute, the baseline
     * against which the copy stream's overlap is measured ({@code scripts/gpu-check.sh}, {@code SWAP_SYNC_TOO=1}).
     */
    public static final String SYNCHRONOUS_PROPERTY = "loraid.swap.synchronous";

    private final List<? extends Module> blocks;
    private final BlockSwapSchedule schedule;
    private final List<Map<String, Tensor>> host = new ArrayList<>();
    private final List<Map<String, Tensor>> slots = new ArrayList<>();
    /** slotOf[block]: the slot holding the block's weights, or −1 when it is in host memory only. */
    private final int[] slotOf;
    private final Listener listener;
    private final CopyStream copies;
    /** pending[block]: the fence of the copy bringing the block in, until its first use has waited for it. */
    private final CopyStream.Fence[] pending;
    private long transfers;

    private BlockSwap(List<? extends Module> blocks, BlockSwapSchedule schedule, Device device, Listener listener,
            CopyStream copies) {
        this.blocks = blocks;
        this.schedule = schedule;
        this.listener = listener;
        this.copies = copies;
        this.slotOf = new int[blocks.size()];
        this.pending = new CopyStream.Fence[blocks.size()];
        Arrays.fill(slotOf, -1);
        try (MemoryScope outside = MemoryScope.suspend()) {
            for (int b = 0; b < blocks.size(); b++) {
                // the blocks that ever come in by a swap (the first N and the last R) are copied from page-locked memory
                boolean moves = b < schedule.swapped() || b >= schedule.resident();
                Map<String, Tensor> weights = new LinkedHashMap<>();
                for (Map.Entry<String, Parameter> e : blocks.get(b).namedParameters().entrySet()) {
                    Tensor t = e.getValue().release();
                    if (!t.device().isCpu()) {
                        throw new IllegalStateException("--blocks_to_swap: blocks." + b + "." + e.getKey() + " is on "
                                + t.device() + ": load the model on the host, the swap moves the blocks itself");
                    }
                    weights.put(e.getKey(), moves ? copies.pinned(t) : t);
                }
                host.add(weights);
                blocks.get(b).to(device); // its buffers (fp8 scales: small) live on the device for good
            }
            for (int s = 0; s < schedule.resident(); s++) {
                Map<String, Tensor> slot = new LinkedHashMap<>();
                host.getFirst().forEach((name, t) -> slot.put(name, Tensor.empty(device, t.dtype(), t.shape().toArray())));
                slots.add(slot);
            }
        }
        for (int b : schedule.residentAtStart()) {
            load(b, b);
        }
    }

    /**
     * Moves everything of {@code model} but its blocks to {@code device}, keeps the blocks' weights where they are
     * (host memory: the model must have been loaded there) and makes the first {@code R} blocks resident; from now on
     * the model's forward passes swap as the schedule says.
     *
     * @throws IllegalArgumentException when {@code blocksToSwap} is not in 1 .. blocks − 1
     * @throws IllegalStateException    when the blocks differ in their weights' shapes or dtypes (one slot fits all)
     */
    public static BlockSwap install(WanModel model, Device device, int blocksToSwap, Listener listener) {
        CopyStream copies = Boolean.getBoolean(SYNCHRONOUS_PROPERTY) ? CopyStream.SYNCHRONOUS : Backends.of(device).copyStream();
        return install(model, device, blocksToSwap, listener, copies);
    }

    /** {@link #install(WanModel, Device, int, Listener)} with the blocks coming in through {@code copies}. */
    public static BlockSwap install(WanModel model, Device device, int blocksToSwap, Listener listener, CopyStream copies) {
        BlockSwapSchedule schedule = new BlockSwapSchedule(model.blocks().size(), blocksToSwap);
        requireUniform(model.blocks());
        model.children().forEach((name, m) -> {
            if (!name.equals("blocks")) {
                m.to(device);
            }
        });
        BlockSwap swap = new BlockSwap(model.blocks(), schedule, device, listener, copies);
        model.setBlockSwap(swap);
        return swap;
    }

    private static void requireUniform(List<WanBlock> blocks) {
        Map<String, Parameter> first = blocks.getFirst().namedParameters();
        for (int b = 1; b < blocks.size(); b++) {
            Map<String, Parameter> p = blocks.get(b).namedParameters();
            for (Map.Entry<String, Parameter> e : first.entrySet()) {
                Parameter q = p.get(e.getKey());
                if (q == null || !q.shape().equals(e.getValue().shape()) || q.dtype() != e.getValue().dtype()) {
                    throw new IllegalStateException("--blocks_to_swap: blocks." + b + "." + e.getKey() + " is "
                            + (q == null ? "missing" : q.dtype() + " " + q.shape()) + " but blocks.0." + e.getKey() + " is "
                            + e.getValue().dtype() + " " + e.getValue().shape() + ": every block must have the same weights");
                }
            }
        }
    }

    public BlockSwapSchedule schedule() {
        return schedule;
    }

    /** What a front end reports once the swap is installed: where the blocks are and how they move. */
    public String describe(Device device) {
        int r = schedule.resident();
        String how = copies == CopyStream.SYNCHRONOUS ? "copied in when their turn comes"
                : r == 1 ? "one slot: each block waits for its own copy"
                : "each copied in while the " + (r - 1) + " before it compute";
        return schedule.swapped() + " of " + schedule.blocks() + " blocks in host memory, " + r + " resident on " + device
                + " (" + how + ")";
    }

    /** Host-to-device block copies so far (each is one block's weights). */
    public long transfers() {
        return transfers;
    }

    /** The blocks whose weights are on the device now, in block order. */
    public List<Integer> resident() {
        List<Integer> out = new ArrayList<>();
        for (int b = 0; b < slotOf.length; b++) {
            if (slotOf[b] >= 0) {
                out.add(b);
            }
        }
        return out;
    }

    /**
     * Block {@code i} of a differentiable forward pass: {@code block} applied to {@code x}, with the moves the schedule
     * makes after the forward, and hooks that check residency when the backward pass reaches the block and make the
     * backward moves when it leaves it. Block 0 first restores the starting set if a pass without backward changed it.
     */
    public Var forward(int i, Var x, UnaryOperator<Var> block) {
        if (i == 0) {
            toStart();
        }
        requireResident(i, "forward");
        Var in = Ops.onBackward(x, () -> afterBackward(i));
        Var out = Ops.onBackward(block.apply(in), () -> requireResident(i, "backward"));
        schedule.afterForward(i).ifPresent(this::swap);
        return out;
    }

    /** Block {@code i} of a forward pass without a graph ({@code block} updates the residual stream in place). */
    public void forwardInPlace(int i, Runnable block) {
        if (i == 0) {
            toStart();
        }
        requireResident(i, "forward");
        block.run();
        schedule.afterForward(i).ifPresent(this::swap);
    }

    private void afterBackward(int i) {
        schedule.afterBackward(i).ifPresent(this::swap);
    }

    private void toStart() {
        schedule.toStart(resident()).forEach(this::swap);
    }

    /** Fails if block {@code i} is not on the device; else makes its kernels wait for the copy that brought it in. */
    private void requireResident(int i, String pass) {
        if (slotOf[i] < 0) {
            throw new IllegalStateException("--blocks_to_swap: block " + i + " reached its " + pass + " pass while its "
                    + "weights are in host memory (resident: " + resident() + ")");
        }
        if (pending[i] != null) {
            pending[i].awaitOnCompute();
            pending[i] = null;
        }
    }

    private void swap(BlockSwapSchedule.Swap s) {
        int slot = slotOf[s.evict()];
        if (slot < 0 || slotOf[s.fetch()] >= 0) {
            throw new IllegalStateException("--blocks_to_swap: cannot swap block " + s.evict() + " out for block " + s.fetch()
                    + " (resident: " + resident() + ")");
        }
        blocks.get(s.evict()).namedParameters().values().forEach(Parameter::release);
        slotOf[s.evict()] = -1;
        if (pending[s.evict()] != null) { // evicted before its first use: waiting costs nothing and frees the fence
            pending[s.evict()].awaitOnCompute();
            pending[s.evict()] = null;
        }
        Map<String, Tensor> into = slots.get(slot);
        List<Tensor> sources = new ArrayList<>();
        List<Tensor> destinations = new ArrayList<>();
        host.get(s.fetch()).forEach((name, t) -> {
            sources.add(t);
            destinations.add(into.get(name));
        });
        pending[s.fetch()] = copies.copyAfterCompute(sources, destinations);
        adopt(s.fetch(), slot);
        listener.swapped(s.evict(), s.fetch());
    }

    /** Copies block {@code b}'s host weights into slot {@code slot} now and points its parameters at them. */
    private void load(int b, int slot) {
        Map<String, Tensor> into = slots.get(slot);
        host.get(b).forEach((name, t) -> {
            Tensor d = into.get(name);
            d.backend().copy(t, d);
        });
        adopt(b, slot);
    }

    /** Points block {@code b}'s parameters at slot {@code slot}'s tensors (whose data may still be on its way). */
    private void adopt(int b, int slot) {
        Map<String, Tensor> into = slots.get(slot);
        Map<String, Parameter> params = blocks.get(b).namedParameters();
        host.get(b).keySet().forEach(name -> params.get(name).adopt(into.get(name)));
        slotOf[b] = slot;
        transfers++;
    }
}
