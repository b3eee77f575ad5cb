package dev.loraid.tensor;

import java.util.Arrays;

/** An immutable list of dimension sizes. Printed as {@code [2, 3]}, as in error messages everywhere. */
public final class Shape {
    private final long[] dims;

    private Shape(long[] dims) {
        this.dims = dims;
    }

    public static Shape of(long... dims) {
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            }
        }
        return new Shape(dims.clone());
    }

    public static Shape of(int... dims) {
        return of(Arrays.stream(dims).asLongStream().toArray());
    }

    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public long dim(int i) {
        return dims[normalize(i)];
    }

    public int normalize(int i) {
        int r = i < 0 ? i + dims.length : i;
        if (r < 0 || r >= dims.length) {
            throw new IndexOutOfBoundsException("dimension " + i + " out of range for shape " + this);
        }
        return r;
    }

    public long numel() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long[] toArray() {
        return dims.clone();
    }

    /** Row-major strides (in elements) of a contiguous tensor of this shape. */
    public long[] contiguousStrides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(dims[i], 1);
        }
        return s;
    }

    /** NumPy broadcasting of two shapes; throws naming both if they are incompatible. */
    public static Shape broadcast(Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        long[] out = new long[r];
        for (int i = 0; i < r; i++) {
            long da = i < r - a.rank() ? 1 : a.dims[i - (r - a.rank())];
            long db = i < r - b.rank() ? 1 : b.dims[i - (r - b.rank())];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + a + " and " + b + " cannot be broadcast together");
            }
            out[i] = da == 1 ? db : da;
        }
        return new Shape(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
