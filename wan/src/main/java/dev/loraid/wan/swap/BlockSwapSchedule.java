package dev.loraid.wan.swap;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Which transformer block moves between host and device when, for {@code --blocks_to_swap N} (spec training.md §3.5;
 * musubi's {@code ModelOffloader}): of the model's {@code n} blocks, {@code R = n − N} are on the device at any time.
 * A forward pass starts with blocks {@code 0 .. R−1} resident; when block {@code i < N} has run forward, it leaves and
 * block {@code i + R} comes in, so that the pass ends with the last {@code R} blocks resident — the first ones the
 * backward pass needs. Walking back, when block {@code i ≥ R} has run backward it leaves and block {@code i − R}
 * comes in, which restores the starting set for the next step. Each swap fetches a block {@code R} positions ahead
 * of the one running, which is what lets a copy stream hide the transfer behind {@code R − 1} blocks of compute.
 *
 * <p>Pure host-side bookkeeping: {@link BlockSwap} carries the moves out.
 */
public final class BlockSwapSchedule {
    /** One block leaving the device and one taking its place (its memory). */
    public record Swap(int evict, int fetch) {
    }

    private final int blocks;
    private final int swapped;

    /**
     * @param blocks  the model's transformer blocks
     * @param swapped {@code --blocks_to_swap}: 1 .. blocks − 1 (as upstream: at least one block stays on the device)
     */
    public BlockSwapSchedule(int blocks, int swapped) {
        if (blocks < 2) {
            throw new IllegalArgumentException("block swap needs a model of at least 2 blocks, this one has " + blocks);
        }
        if (swapped < 1 || swapped > blocks - 1) {
            throw new IllegalArgumentException(swapped + " blocks to swap is out of range for a model of " + blocks
                    + " blocks: give 1.." + (blocks - 1) + " (0 turns swapping off; one block at least stays on the device)");
        }
        this.blocks = blocks;
        this.swapped = swapped;
    }

    public int blocks() {
        return blocks;
    }

    /** {@code N}: the blocks whose weights are kept in host memory. */
    public int swapped() {
        return swapped;
    }

    /** {@code R = n − N}: how many blocks' weights are on the device at once. */
    public int resident() {
        return blocks - swapped;
    }

    /** The blocks on the device when a forward pass starts: {@code 0 .. R−1}. */
    public List<Integer> residentAtStart() {
        return IntStream.range(0, resident()).boxed().toList();
    }

    /** The move after block {@code i}'s forward, if any: {@code (i, i + R)} for {@code i < N}. */
    public Optional<Swap> afterForward(int i) {
        check(i);
        return i < swapped ? Optional.of(new Swap(i, i + resident())) : Optional.empty();
    }

    /** The move after block {@code i}'s backward, if any: {@code (i, i − R)} for {@code i ≥ R}. */
    public Optional<Swap> afterBackward(int i) {
        check(i);
        return i >= resident() ? Optional.of(new Swap(i, i - resident())) : Optional.empty();
    }

    /**
     * The moves that turn {@code current} (the blocks on the device now, {@code R} of them) into
     * {@link #residentAtStart()}: needed before a forward pass that follows a forward without backward (inference,
     * validation), which left the last blocks resident. Pairs each block to bring in with one to let go.
     */
    public List<Swap> toStart(List<Integer> current) {
        if (current.size() != resident()) {
            throw new IllegalArgumentException(current.size() + " blocks resident, expected " + resident());
        }
        List<Integer> leave = new ArrayList<>(current);
        leave.removeAll(residentAtStart());
        List<Integer> come = new ArrayList<>(residentAtStart());
        come.removeAll(current);
        List<Swap> out = new ArrayList<>();
        for (int k = 0; k < come.size(); k++) {
            out.add(new Swap(leave.get(k), come.get(k)));
        }
        return out;
    }

    private void check(int i) {
        if (i < 0 || i >= blocks) {
            throw new IndexOutOfBoundsException("block " + i + " of " + blocks);
        }
    }
}
