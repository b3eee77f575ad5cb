package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

/** Embedding lookup {@code out[i, :] = table[ids[i], :]}: table [V, D], ids I64/I32 [N], out [N, D]. */
final class GatherRows {
    private GatherRows() {
    }

    static void gather(Tensor table, Tensor ids, Tensor out) {
        if (table.rank() != 2 || ids.rank() != 1 || ids.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("gatherRows expects table [V, D] and integer ids [N], got table "
                + table.shape() + " and ids " + ids.dtype() + " " + ids.shape());
        }
        long vocab = table.size(0);
        long n = ids.size(0);
        Checks.shape(out, "gatherRows out", n, table.size(1));
        long[] rows = new long[(int) n];
        for (int i = 0; i < n; i++) {
            rows[i] = ids.getLong(i);
            if (rows[i] < 0 || rows[i] >= vocab) {
                throw new IndexOutOfBoundsException("gatherRows: ids[" + i + "] = " + rows[i] + " is outside the table's "
                    + vocab + " rows");
            }
        }
        Parallel.forRange(n, 4, (from, to) -> {
            for (long i = from; i < to; i++) {
                StridedCopy.copy(table.select(0, rows[(int) i]), out.select(0, i));
            }
        });
    }
}
