package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/** Concatenation along one dimension (each input copied into a slice). Input i's gradient is slice i of g (a view). */
public final class Concat extends Node {
    private final int dim;
    private final long[] sizes;

    private Concat(Var[] xs, int dim, long[] sizes) {
        super(xs);
        this.dim = dim;
        this.sizes = sizes;
    }

    public static Var apply(List<Var> xs, int dim) {
        if (xs.isEmpty()) {
            throw new IllegalArgumentException("concat of no tensors");
        }
        Var[] in = xs.toArray(Var[]::new);
        Tensor first = in[0].data();
        int d = first.shape().normalize(dim);
        long[] dims = first.shape().toArray();
        long[] sizes = new long[in.length];
        long total = 0;
        Tensor[] data = new Tensor[in.length];
        for (int i = 0; i < in.length; i++) {
            data[i] = in[i].data();
            long[] di = data[i].shape().toArray();
            di[d] = dims[d];
            if (data[i].rank() != first.rank() || !Arrays.equals(di, dims)) {
                throw new IllegalArgumentException("concat along dimension " + dim + ": input " + i + " has shape "
                    + data[i].shape() + ", input 0 has " + first.shape());
            }
            sizes[i] = data[i].size(d);
            total += sizes[i];
        }
        dims[d] = total;
        Tensor out = Tensor.empty(first.device(), TensorMath.computeType(data), dims);
        long at = 0;
        for (int i = 0; i < in.length; i++) {
            first.backend().copy(data[i], out.narrow(d, at, sizes[i]));
            at += sizes[i];
        }
        return Var.result(out, Node.recording(in) ? new Concat(in, d, sizes) : null, in);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor[] grads = new Tensor[sizes.length];
        long at = 0;
        for (int i = 0; i < sizes.length; i++) {
            grads[i] = needs(i) ? g.narrow(dim, at, sizes[i]) : null;
            at += sizes[i];
        }
        return grads;
    }
}
