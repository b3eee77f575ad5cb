package dev.loraid.wan.text;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Parameter;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * A frozen lookup table with key {@code weight} [rows, width] (upstream {@code nn.Embedding}): the token embedding
 * and the relative-position tables. Inference only: rows are gathered into F32, no gradient flows to the table.
 */
final class Umt5Embedding extends Module {
    private final Parameter weight;

    Umt5Embedding(long rows, long width) {
        this.weight = registerParameter("weight", Parameter.declared(DType.F32, rows, width));
    }

    /** ids [N] (integer, on the table's device) → F32 [N, width], from the current memory scope. */
    Tensor lookup(Tensor ids) {
        Tensor table = weight.data();
        Tensor out = Tensor.empty(table.device(), DType.F32, ids.size(0), table.size(1));
        table.backend().gatherRows(table, ids, out);
        return out;
    }
}
