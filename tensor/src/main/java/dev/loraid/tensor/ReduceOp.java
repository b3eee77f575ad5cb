package dev.loraid.tensor;

/** Reductions over chosen dimensions. {@code SUM_SQUARES} feeds global-norm gradient clipping. */
public enum ReduceOp {
    SUM, MEAN, MAX, MIN, SUM_SQUARES
}
