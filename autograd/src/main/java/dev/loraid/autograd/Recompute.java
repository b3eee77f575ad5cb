package dev.loraid.autograd;

import dev.loraid.autograd.ops.TensorMath;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;

/**
 * Recomputation of a block in the backward pass, known as gradient checkpointing (spec training.md §3.5; the
 * trainer's {@code --gradient_checkpointing}): the block's forward runs without a graph inside its own
 * {@link MemoryScope}, which is released as soon as the output is copied out, so none of the block's
 * activations stay alive; the backward pass runs the forward again (with a graph, in a fresh nested scope),
 * backpropagates through it, and copies out only the input gradients. Parameter gradients accumulate as usual.
 *
 * <p>The block must compute the same function both times. Draws from the thread's {@link Rng} stream are
 * replayed: its state before the forward pass is restored for the recomputation (PyTorch's
 * {@code preserve_rng_state}). Any other source of randomness inside the block must be a pure function of its
 * inputs (e.g. explicit seeds), never a generator that advances on every call.
 */
public final class Recompute extends Node {
    /** The recomputed computation. */
    @FunctionalInterface
    public interface Block {
        Var forward(Var... inputs);
    }

    /**
     * Where a recomputed block's first input waits for the backward pass when it need not stay on the device
     * ({@code --gradient_checkpointing_cpu_offload}, training.md §3.5): told of it once the block's forward is done.
     */
    @FunctionalInterface
    public interface Offload {
        /** Takes {@code input} (the block has run on it); the backward pass gets it back from the returned stash. */
        Stash stash(Tensor input);
    }

    /** A block input put away by an {@link Offload}. */
    public interface Stash {
        /** The input, on its device again, for the block's recomputation. */
        Tensor restore();

        /** The backward pass is done with the restored input. */
        void discard();
    }

    private final Block block;
    private final Rng.State rngBefore;
    private final Stash stash;

    private Recompute(Block block, Var[] inputs, Rng.State rngBefore, Stash stash) {
        super(inputs);
        this.block = block;
        this.rngBefore = rngBefore;
        this.stash = stash;
    }

    /**
     * Runs {@code block} on {@code inputs}, to be recomputed in the backward pass. {@code owner} is the module
     * whose parameters the block uses: a graph node is recorded when an input or one of its weights requires a gradient — its own
     * parameters or an adapter's ({@link Module#hasTrainableWeights()}), so the first LoRA-adapted block, whose
     * input is a constant, is recomputed and trained too.
     */
    public static Var apply(Module owner, Block block, Var... inputs) {
        return apply(owner.hasTrainableWeights(), null, block, inputs);
    }

    /**
     * {@link #apply(Module, Block, Var...)} with {@code inputs[0]} handed to {@code offload} (when not null) once the
     * forward is done, and taken back from it for the recomputation.
     */
    public static Var apply(Module owner, Offload offload, Block block, Var... inputs) {
        return apply(owner.hasTrainableWeights(), offload, block, inputs);
    }

    /**
     * Runs {@code block}, which uses no parameter but its {@code inputs} (e.g. factors it multiplies out), to be
     * recomputed in the backward pass: only its output is kept meanwhile.
     */
    public static Var apply(Block block, Var... inputs) {
        return apply(false, null, block, inputs);
    }

    private static Var apply(boolean trainable, Offload offload, Block block, Var... inputs) {
        if (!GradMode.isEnabled() || !(trainable || Node.recording(inputs))) {
            return block.forward(inputs);
        }
        MemoryScope outer = MemoryScope.current();
        Rng.State rngBefore = Rng.save();
        Tensor out;
        try (GradMode.Scope noGrad = GradMode.noGrad(); MemoryScope inner = MemoryScope.open()) {
            Tensor o = block.forward(inputs).data();
            out = allocateIn(outer, o);
            o.backend().copy(o, out);
        }
        Stash stash = offload == null ? null : offload.stash(inputs[0].data());
        return Var.recorded(out, new Recompute(block, inputs, rngBefore, stash));
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Var[] inputs = inputs();
        Tensor[] data = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            data[i] = i == 0 && stash != null ? stash.restore() : inputs[i].data();
        }
        Tensor[] grads = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (needs(i)) {
                Tensor x = data[i];
                grads[i] = Tensor.empty(x.device(), TensorMath.gradType(x.dtype()), x.shape().toArray());
            }
        }
        Rng.State rngNow = Rng.save();
        Rng.restore(rngBefore);
        try (GradMode.Scope on = GradMode.enableGrad(); MemoryScope inner = MemoryScope.open()) {
            Var[] leaves = new Var[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                leaves[i] = needs(i) ? Var.leaf(data[i]) : Var.constant(data[i]);
            }
            long internal = MemoryScope.mark(); // the recomputed activations: nobody outside this pass holds them
            Var out = block.forward(leaves);
            if (out.requiresGrad()) {
                Backprop.run(out, g, internal);
            }
            for (int i = 0; i < inputs.length; i++) {
                if (grads[i] == null) {
                    continue;
                }
                Tensor lg = leaves[i].grad();
                if (lg == null) {
                    grads[i].backend().fill(grads[i], 0);
                } else {
                    grads[i].backend().copy(lg, grads[i]);
                }
            }
        } finally {
            Rng.restore(rngNow);
            if (stash != null) {
                stash.discard();
            }
        }
        return grads;
    }

    /** A contiguous tensor like {@code like}, allocated from {@code scope} (or outside any scope when null). */
    private static Tensor allocateIn(MemoryScope scope, Tensor like) {
        DType type = like.dtype();
        Shape shape = like.shape();
        if (scope == null) {
            try (MemoryScope outside = MemoryScope.suspend()) {
                return Tensor.empty(like.device(), type, shape.toArray());
            }
        }
        Storage st = scope.allocate(like.backend(), shape.numel() * type.byteSize());
        return new Tensor(st, type, shape, shape.contiguousStrides(), 0);
    }
}
