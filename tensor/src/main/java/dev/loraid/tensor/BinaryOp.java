package dev.loraid.tensor;

/** Elementwise functions of two broadcast tensors. {@code GT} gives 1 where a &gt; b, else 0. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAX, MIN, POW, GT;

    /** The plain scalar definition: reference for kernels and tests. */
    public double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case POW -> Math.pow(a, b);
            case GT -> a > b ? 1.0 : 0.0;
        };
    }
}
