package dev.loraid.autograd;

import dev.loraid.autograd.ops.TensorMath;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reverse pass: orders the graph below a root topologically, then walks it backwards, summing the gradients
 * that reach each value through fan-out and handing each node its output gradient exactly once. Leaves
 * accumulate into {@link Var#grad()}. Each node runs once (as in PyTorch without {@code retain_graph}).
 */
final class Backprop {
    /** {@link #run(Var, Tensor, long)}'s mark for a graph the caller holds: no value's tensor is given back. */
    static final long HELD = Long.MAX_VALUE;

    private Backprop() {
    }

    static void run(Var root, double scale) {
        if (root.shape().numel() != 1) {
            throw new IllegalArgumentException("backward() without a seed needs a one-element value, got shape "
                + root.shape() + "; pass the seed gradient explicitly");
        }
        Tensor seed = Tensor.empty(root.data().device(), TensorMath.gradType(root.dtype()), root.shape().toArray());
        seed.backend().fill(seed, scale);
        run(root, seed);
    }

    static void run(Var root, Tensor seed) {
        run(root, seed, HELD);
    }

    /**
     * {@link #run(Var, Tensor)} over a graph that no one outside holds (a recomputed block's, {@link Recompute}):
     * once a value's node has run, no node reads the value again, so its tensor is given back too when it was
     * allocated since {@code internalSince} ({@link MemoryScope#mark()}), spans its storage and shares it with none of
     * the node's inputs. The block's later activations are then gone before its first ones are backpropagated, as in
     * PyTorch, where the graph frees what each node saved once it has run.
     */
    static void run(Var root, Tensor seed, long internalSince) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward() on a value that does not require a gradient "
                + "(no input requires one, or it was computed under GradMode.noGrad())");
        }
        if (!seed.shape().equals(root.shape())) {
            throw new IllegalArgumentException("seed gradient of shape " + seed.shape() + " for a value of shape " + root.shape());
        }
        if (root.isLeaf()) {
            root.accumulateGrad(unaliased(seed, root, List.of()));
            return;
        }
        List<Var> order = topologicalOrder(root);
        long mark = MemoryScope.mark(); // gradients allocated from here on are this pass's own, given back when dead
        Map<Var, Tensor> pending = new IdentityHashMap<>();
        Set<Var> summed = Collections.newSetFromMap(new IdentityHashMap<>()); // pending tensor is our own sum buffer
        pending.put(root, unaliased(seed, root, order));
        for (int i = order.size() - 1; i >= 0; i--) {
            Var v = order.get(i);
            Tensor g = pending.remove(v);
            summed.remove(v);
            Node node = v.node();
            if (g == null) {
                continue;
            }
            Var[] inputs = node.inputs();
            GradBuffer[] into = offers(inputs, pending, summed);
            Tensor[] grads = node.runBackward(g, into);
            List<Tensor> dead = new ArrayList<>();
            dead.add(g);
            List<Var> first = new ArrayList<>();
            for (int k = 0; k < inputs.length; k++) {
                Var in = inputs[k];
                if (in == null || !in.requiresGrad() || grads[k] == null) {
                    continue;
                }
                if (!grads[k].shape().equals(in.shape())) {
                    throw new IllegalStateException(node.name() + " backward gave a gradient of shape "
                        + grads[k].shape() + " for input " + k + " of shape " + in.shape());
                }
                if (in.isLeaf()) {
                    if (into[k] != null) {
                        in.accumulateGrad(grads[k], into[k]);
                    } else {
                        in.accumulateGrad(grads[k]);
                    }
                    dead.add(grads[k]); // unless the node wrote it into the leaf's buffer: inUse keeps that
                } else {
                    Tensor sum = pending.get(in);
                    if (sum == null) {
                        pending.put(in, grads[k]);
                        first.add(in);
                    } else if (summed.contains(in)) {
                        if (grads[k] != sum) {
                            sum.backend().addScaled(sum, 1.0, grads[k], 1.0, sum);
                            dead.add(grads[k]);
                        }
                    } else {
                        pending.put(in, TensorMath.add(sum, grads[k]));
                        summed.add(in);
                        dead.add(sum);
                        dead.add(grads[k]);
                    }
                }
            }
            release(dead, pending, inputs, mark);
            if (internalSince != HELD && v.data().spansStorage() && !sharedWithInputs(v.data(), inputs)) {
                MemoryScope.release(v.data(), internalSince);
            }
            for (Var in : first) {
                if (!summed.contains(in) && ownSum(in, pending.get(in), pending, inputs, mark)) {
                    summed.add(in);
                }
            }
        }
    }

    /**
     * Whether a value's first gradient can be its running sum: a contiguous tensor of this pass's own in the value's
     * gradient dtype that no other pending gradient or leaf gradient shares. The next contributions are then added into
     * it (a linear layer's GEMM with beta = 1, through the buffer {@link #offers} hands it) instead of into a new sum:
     * one tensor and one pass over it fewer per fan-in, as PyTorch accumulates in place.
     */
    private static boolean ownSum(Var in, Tensor t, Map<Var, Tensor> pending, Var[] inputs, long mark) {
        if (t == null || !t.isContiguous() || t.dtype() != TensorMath.gradType(in.dtype())
                || !MemoryScope.allocatedSince(t, mark)) {
            return false;
        }
        return pendingHolders(t.storage(), pending) == 1 && !leafGradient(t.storage(), inputs);
    }

    /**
     * Gives back the memory of the gradients a node has used and of the sums' parts (PyTorch frees each tensor after
     * its last use; a memory scope otherwise holds every gradient of the pass until it closes, one residual-stream
     * gradient per checkpointed block and several per op). Only this pass's own allocations are given back
     * ({@link MemoryScope#release}: never the caller's seed, a weight or an activation), and none whose storage a
     * pending gradient or a leaf gradient still uses (a node may pass its output gradient on as an input's, or a view
     * of it).
     */
    private static void release(List<Tensor> dead, Map<Var, Tensor> pending, Var[] inputs, long mark) {
        for (Tensor t : dead) {
            if (!inUse(t.storage(), pending, inputs)) {
                MemoryScope.release(t, mark);
            }
        }
    }

    private static boolean sharedWithInputs(Tensor t, Var[] inputs) {
        for (Var in : inputs) {
            if (in != null && in.data().storage() == t.storage()) {
                return true;
            }
        }
        return false;
    }

    private static boolean inUse(Storage st, Map<Var, Tensor> pending, Var[] inputs) {
        return pendingHolders(st, pending) > 0 || leafGradient(st, inputs);
    }

    /** How many pending gradients lie in {@code st}. */
    private static int pendingHolders(Storage st, Map<Var, Tensor> pending) {
        int n = 0;
        for (Tensor p : pending.values()) {
            n += p.storage() == st ? 1 : 0;
        }
        return n;
    }

    /** Whether {@code st} holds the gradient of one of the node's leaf inputs. */
    private static boolean leafGradient(Storage st, Var[] inputs) {
        for (Var in : inputs) {
            if (in != null && in.isLeaf() && in.grad() != null && in.grad().storage() == st) {
                return true;
            }
        }
        return false;
    }

    /**
     * The seed, or a copy of it when it shares memory with a leaf gradient this pass adds into in place
     * ({@code x.backward(x.grad())}, or another leaf's gradient passed as seed): a GEMM with beta = 1 into that
     * gradient, or the elementwise add of {@link Var#accumulateGrad(Tensor, GradBuffer)}, would read the seed
     * after overwriting it (through a transposed view, element by element), and a seed that is the gradient
     * tensor itself would be taken as already added. The pass writes no other memory a caller can hold (new
     * gradients and running sums are its own), and an ordinary seed, such as a recomputed block's output
     * gradient, is not copied.
     */
    private static Tensor unaliased(Tensor seed, Var root, List<Var> order) {
        boolean aliased = root.isLeaf() && aliasesGradient(seed, root);
        for (Var v : order) {
            for (Var in : v.node().inputs()) {
                aliased |= in != null && in.isLeaf() && aliasesGradient(seed, in);
            }
        }
        if (!aliased) {
            return seed;
        }
        Tensor copy = Tensor.empty(seed.device(), seed.dtype(), seed.shape().toArray());
        copy.backend().copy(seed, copy);
        return copy;
    }

    private static boolean aliasesGradient(Tensor seed, Var leaf) {
        return leaf.requiresGrad() && leaf.grad() != null && overlaps(seed, leaf.grad());
    }

    /** Whether two tensors' element spans share a byte (interleaved views that touch no common element count too). */
    private static boolean overlaps(Tensor a, Tensor b) {
        return a.device().equals(b.device()) && a.numel() > 0 && b.numel() > 0
            && span(a).asOverlappingSlice(span(b)).isPresent();
    }

    /** The bytes from t's lowest to its highest element (on a GPU only the addresses count: nothing is read). */
    private static MemorySegment span(Tensor t) {
        long first = t.offset();
        long last = t.offset();
        for (int d = 0; d < t.rank(); d++) {
            long reach = (t.size(d) - 1) * t.stride(d);
            if (reach < 0) {
                first += reach;
            } else {
                last += reach;
            }
        }
        long bytes = t.dtype().byteSize();
        return t.storage().segment().asSlice(first * bytes, (last - first + 1) * bytes);
    }

    /**
     * The buffers offered to a node: a leaf's gradient buffer, or a value's running sum once the pass holds one
     * of its own. None for an input the node names twice (each gradient must land once in a buffer it has seen).
     */
    private static GradBuffer[] offers(Var[] inputs, Map<Var, Tensor> pending, Set<Var> summed) {
        GradBuffer[] into = new GradBuffer[inputs.length];
        for (int k = 0; k < inputs.length; k++) {
            Var in = inputs[k];
            if (in == null || !in.requiresGrad() || namedTwice(inputs, k)) {
                continue;
            }
            if (in.isLeaf()) {
                into[k] = in.gradBuffer();
            } else if (summed.contains(in)) {
                into[k] = new GradBuffer(pending.get(in), false);
            }
        }
        return into;
    }

    private static boolean namedTwice(Var[] inputs, int k) {
        for (int j = 0; j < inputs.length; j++) {
            if (j != k && inputs[j] == inputs[k]) {
                return true;
            }
        }
        return false;
    }

    /** Non-leaf values that need a gradient, each after all values it depends on (iterative DFS: deep graphs). */
    private static List<Var> topologicalOrder(Var root) {
        List<Var> order = new ArrayList<>();
        Map<Var, Boolean> visited = new IdentityHashMap<>();
        ArrayDeque<Var> stack = new ArrayDeque<>();
        ArrayDeque<Integer> nextInput = new ArrayDeque<>();
        stack.push(root);
        nextInput.push(0);
        visited.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Var v = stack.peek();
            int k = nextInput.pop();
            Var[] inputs = v.node().inputs();
            while (k < inputs.length && (inputs[k] == null || inputs[k].isLeaf() || !inputs[k].requiresGrad()
                || visited.containsKey(inputs[k]))) {
                k++;
            }
            if (k == inputs.length) {
                stack.pop();
                order.add(v);
            } else {
                nextInput.push(k + 1);
                Var child = inputs[k];
                visited.put(child, Boolean.TRUE);
                stack.push(child);
                nextInput.push(0);
            }
        }
        return order;
    }
}
