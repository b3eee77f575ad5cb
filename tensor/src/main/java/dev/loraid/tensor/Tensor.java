package dev.loraid.tensor;

import dev.loraid.tensor.cpu.FloatRuns;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * An n-dimensional view over a {@link Storage}: dtype, shape, strides and offset (both in elements). View
 * operations (reshape, permute, transpose, narrow, expand, squeeze, unsqueeze) never copy; several tensors may
 * share one storage. Math goes through the {@link Backend} of the tensor's device.
 */
public final class Tensor {
    private final Storage storage;
    private final DType dtype;
    private final Shape shape;
    private final long[] strides;
    private final long offset;

    public Tensor(Storage storage, DType dtype, Shape shape, long[] strides, long offset) {
        if (strides.length != shape.rank()) {
            throw new IllegalArgumentException("strides " + Arrays.toString(strides) + " do not match shape " + shape);
        }
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides.clone();
        this.offset = offset;
    }

    // ---- creation ----

    /** Uninitialised contiguous tensor on {@code device} (from the current {@link MemoryScope}, if any). */
    public static Tensor empty(Device device, DType dtype, long... dims) {
        Shape s = Shape.of(dims);
        Storage st = Backends.of(device).allocate(Math.multiplyExact(s.numel(), (long) dtype.byteSize()));
        return new Tensor(st, dtype, s, s.contiguousStrides(), 0);
    }

    public static Tensor empty(DType dtype, long... dims) {
        return empty(Device.CPU, dtype, dims);
    }

    public static Tensor zeros(Device device, DType dtype, long... dims) {
        Tensor t = empty(device, dtype, dims);
        t.backend().fill(t, 0);
        return t;
    }

    public static Tensor zeros(DType dtype, long... dims) {
        return zeros(Device.CPU, dtype, dims);
    }

    public static Tensor full(DType dtype, double value, long... dims) {
        Tensor t = empty(dtype, dims);
        t.backend().fill(t, value);
        return t;
    }

    /** A contiguous CPU F32 tensor holding {@code data} (row-major). */
    public static Tensor of(float[] data, long... dims) {
        Tensor t = empty(DType.F32, checkCount(data.length, dims));
        MemorySegment.copy(data, 0, t.storage.segment(), DType.LE_F32, 0, data.length);
        return t;
    }

    /** A contiguous CPU F64 tensor holding {@code data} (row-major). */
    public static Tensor ofDoubles(double[] data, long... dims) {
        Tensor t = empty(DType.F64, checkCount(data.length, dims));
        MemorySegment.copy(data, 0, t.storage.segment(), DType.LE_F64, 0, data.length);
        return t;
    }

    /** A contiguous CPU I64 tensor holding {@code data}. */
    public static Tensor ofLongs(long[] data, long... dims) {
        Tensor t = empty(DType.I64, checkCount(data.length, dims));
        MemorySegment.copy(data, 0, t.storage.segment(), DType.LE_I64, 0, data.length);
        return t;
    }

    public static Tensor scalar(float value) {
        return of(new float[] {value});
    }

    private static long[] checkCount(int n, long[] dims) {
        long[] d = dims.length == 0 && n != 1 ? new long[] {n} : dims;
        if (Shape.of(d).numel() != n) {
            throw new IllegalArgumentException(n + " values do not fill shape " + Arrays.toString(d));
        }
        return d;
    }

    // ---- accessors ----

    public Storage storage() {
        return storage;
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public int rank() {
        return shape.rank();
    }

    /** Size of dimension {@code i}; negative counts from the end. */
    public long size(int i) {
        return shape.dim(i);
    }

    public long numel() {
        return shape.numel();
    }

    /** Strides in elements. */
    public long[] strides() {
        return strides.clone();
    }

    public long stride(int i) {
        return strides[shape.normalize(i)];
    }

    /** Offset of the first element, in elements from the start of the storage. */
    public long offset() {
        return offset;
    }

    public Device device() {
        return storage.device();
    }

    public Backend backend() {
        return Backends.of(storage.device());
    }

    /** Whether this tensor is the whole of its storage, contiguous from its start: freeing the storage frees only it. */
    public boolean spansStorage() {
        return offset == 0 && isContiguous() && numel() * dtype.byteSize() == storage.byteSize();
    }

    public boolean isContiguous() {
        long expected = 1;
        for (int i = rank() - 1; i >= 0; i--) {
            if (shape.dim(i) != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape.dim(i);
        }
        return true;
    }

    // ---- views ----

    /**
     * Same elements with a new shape, without copying; one dimension may be -1 (inferred). Throws if the strides
     * do not allow a view (use {@link #reshape}).
     */
    public Tensor view(long... dims) {
        long[] d = inferDims(dims);
        long[] st = viewStrides(d);
        if (st == null) {
            throw new IllegalArgumentException("cannot view tensor of shape " + shape + " with strides "
                + Arrays.toString(strides) + " as " + Arrays.toString(d) + " without a copy");
        }
        return new Tensor(storage, dtype, Shape.of(d), st, offset);
    }

    /** Like {@link #view}, copying into a contiguous tensor first when the strides do not allow a view. */
    public Tensor reshape(long... dims) {
        long[] d = inferDims(dims);
        long[] st = viewStrides(d);
        return st != null ? new Tensor(storage, dtype, Shape.of(d), st, offset) : contiguous().view(d);
    }

    private long[] inferDims(long[] dims) {
        long[] d = dims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("only one dimension may be -1 in " + Arrays.toString(dims));
                }
                infer = i;
            } else {
                known *= d[i];
            }
        }
        long n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + shape + " to " + Arrays.toString(dims));
            }
            d[infer] = n / known;
        } else if (known != n) {
            throw new IllegalArgumentException("cannot reshape " + shape + " (" + n + " elements) to " + Arrays.toString(dims));
        }
        return d;
    }

    /**
     * Strides for viewing this tensor as {@code newDims}, or null if impossible: groups of old dimensions that
     * merge must be contiguous among themselves (PyTorch's rule).
     */
    private long[] viewStrides(long[] newDims) {
        long[] oldDims = shape.toArray();
        long[] out = new long[newDims.length];
        if (numel() == 0) {
            return Shape.of(newDims).contiguousStrides();
        }
        int oi = oldDims.length - 1;
        int ni = newDims.length - 1;
        while (ni >= 0 || oi >= 0) {
            // skip size-1 dims on either side (their strides don't matter)
            if (ni >= 0 && newDims[ni] == 1) {
                out[ni] = (ni + 1 < newDims.length) ? out[ni + 1] * newDims[ni + 1] : 1;
                ni--;
                continue;
            }
            if (oi >= 0 && oldDims[oi] == 1) {
                oi--;
                continue;
            }
            if (ni < 0 || oi < 0) {
                return null;
            }
            // take a chunk of old dims that is contiguous in memory and has the same element count as a chunk of new dims
            long oldCount = oldDims[oi];
            long baseStride = strides[oi];
            int oj = oi;
            long newCount = newDims[ni];
            int nj = ni;
            while (oldCount != newCount) {
                if (oldCount < newCount) {
                    oj--;
                    while (oj >= 0 && oldDims[oj] == 1) {
                        oj--;
                    }
                    if (oj < 0) {
                        return null;
                    }
                    int prev = oj + 1;
                    while (oldDims[prev] == 1) {
                        prev++;
                    }
                    if (strides[oj] != strides[prev] * oldDims[prev]) {
                        return null;
                    }
                    oldCount *= oldDims[oj];
                } else {
                    nj--;
                    if (nj < 0) {
                        return null;
                    }
                    newCount *= newDims[nj];
                }
            }
            long s = baseStride;
            for (int k = ni; k >= nj; k--) {
                out[k] = s;
                s *= newDims[k];
            }
            oi = oj - 1;
            ni = nj - 1;
        }
        return out;
    }

    /** Reorders dimensions: result dimension i is this tensor's dimension {@code order[i]}. */
    public Tensor permute(int... order) {
        if (order.length != rank()) {
            throw new IllegalArgumentException("permute " + Arrays.toString(order) + " does not match rank of " + shape);
        }
        long[] d = new long[order.length];
        long[] st = new long[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int o = shape.normalize(order[i]);
            if (seen[o]) {
                throw new IllegalArgumentException("permute " + Arrays.toString(order) + " repeats a dimension");
            }
            seen[o] = true;
            d[i] = shape.dim(o);
            st[i] = strides[o];
        }
        return new Tensor(storage, dtype, Shape.of(d), st, offset);
    }

    public Tensor transpose(int a, int b) {
        int[] order = new int[rank()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        int na = shape.normalize(a);
        int nb = shape.normalize(b);
        order[na] = nb;
        order[nb] = na;
        return permute(order);
    }

    /** Elements {@code start .. start+length-1} of dimension {@code dim}. */
    public Tensor narrow(int dim, long start, long length) {
        int d = shape.normalize(dim);
        if (start < 0 || length < 0 || start + length > shape.dim(d)) {
            throw new IndexOutOfBoundsException("narrow(" + dim + ", " + start + ", " + length + ") out of range for shape " + shape);
        }
        long[] dims = shape.toArray();
        dims[d] = length;
        return new Tensor(storage, dtype, Shape.of(dims), strides, offset + start * strides[d]);
    }

    /** Index {@code index} of dimension {@code dim}, dropping that dimension. */
    public Tensor select(int dim, long index) {
        int d = shape.normalize(dim);
        return narrow(d, index, 1).squeeze(d);
    }

    /** Broadcasts size-1 dimensions (stride 0) to {@code dims}; new leading dimensions may be added. */
    public Tensor expand(long... dims) {
        if (dims.length < rank()) {
            throw new IllegalArgumentException("cannot expand " + shape + " to fewer dimensions " + Arrays.toString(dims));
        }
        long[] st = new long[dims.length];
        int lead = dims.length - rank();
        long[] d = dims.clone();
        for (int i = 0; i < dims.length; i++) {
            if (i < lead) {
                st[i] = 0;
                continue;
            }
            long have = shape.dim(i - lead);
            if (d[i] == -1) {
                d[i] = have;
            }
            if (have == d[i]) {
                st[i] = strides[i - lead];
            } else if (have == 1) {
                st[i] = 0;
            } else {
                throw new IllegalArgumentException("cannot expand " + shape + " to " + Arrays.toString(dims));
            }
        }
        return new Tensor(storage, dtype, Shape.of(d), st, offset);
    }

    public Tensor expand(Shape target) {
        return expand(target.toArray());
    }

    public Tensor unsqueeze(int dim) {
        int d = dim < 0 ? dim + rank() + 1 : dim;
        if (d < 0 || d > rank()) {
            throw new IndexOutOfBoundsException("unsqueeze(" + dim + ") out of range for shape " + shape);
        }
        long[] dims = new long[rank() + 1];
        long[] st = new long[rank() + 1];
        for (int i = 0, j = 0; i < dims.length; i++) {
            if (i == d) {
                dims[i] = 1;
                st[i] = j < rank() ? strides[j] * shape.dim(j) : 1;
            } else {
                dims[i] = shape.dim(j);
                st[i] = strides[j];
                j++;
            }
        }
        return new Tensor(storage, dtype, Shape.of(dims), st, offset);
    }

    /** Removes dimension {@code dim}, which must have size 1. */
    public Tensor squeeze(int dim) {
        int d = shape.normalize(dim);
        if (shape.dim(d) != 1) {
            throw new IllegalArgumentException("cannot squeeze dimension " + dim + " of size " + shape.dim(d) + " in " + shape);
        }
        long[] dims = new long[rank() - 1];
        long[] st = new long[rank() - 1];
        for (int i = 0, j = 0; i < rank(); i++) {
            if (i != d) {
                dims[j] = shape.dim(i);
                st[j++] = strides[i];
            }
        }
        return new Tensor(storage, dtype, Shape.of(dims), st, offset);
    }

    // ---- copies ----

    /** This tensor if contiguous, else a contiguous copy on the same device. */
    public Tensor contiguous() {
        return isContiguous() ? this : copy();
    }

    /** A contiguous copy on the same device. */
    public Tensor copy() {
        return to(device(), dtype);
    }

    /** A contiguous copy cast to {@code type} (this tensor if already of that dtype and contiguous). */
    public Tensor to(DType type) {
        return type == dtype && isContiguous() ? this : to(device(), type);
    }

    /** A contiguous copy on {@code target} (this tensor if already there and contiguous). */
    public Tensor to(Device target) {
        return target.equals(device()) && isContiguous() ? this : to(target, dtype);
    }

    private Tensor to(Device target, DType type) {
        Tensor out = empty(target, type, shape.toArray());
        Backend b = target.isCpu() ? backend() : out.backend();
        b.copy(this, out);
        return out;
    }

    // ---- element access, for tests and small host-side work (CPU only) ----

    /** Byte offset of element {@code idx} in the storage segment. */
    public long byteOffsetOf(long... idx) {
        if (idx.length != rank()) {
            throw new IllegalArgumentException("index " + Arrays.toString(idx) + " does not match shape " + shape);
        }
        long e = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape.dim(i)) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " out of range for shape " + shape);
            }
            e += idx[i] * strides[i];
        }
        return e * dtype.byteSize();
    }

    public double getDouble(long... idx) {
        return dtype.read(hostSegment(), byteOffsetOf(idx));
    }

    public float getFloat(long... idx) {
        return (float) getDouble(idx);
    }

    public long getLong(long... idx) {
        return dtype.readLong(hostSegment(), byteOffsetOf(idx));
    }

    public void setDouble(double value, long... idx) {
        dtype.write(hostSegment(), byteOffsetOf(idx), value);
    }

    /** All elements in row-major order, as doubles (copies through the host for device tensors). */
    public double[] toDoubleArray() {
        Tensor h = device().isCpu() ? this : to(Device.CPU);
        double[] out = new double[Math.toIntExact(h.numel())];
        long[] idx = new long[h.rank()];
        for (int i = 0; i < out.length; i++) {
            out[i] = h.dtype.read(h.storage.segment(), h.byteOffsetOf(idx));
            for (int d = idx.length - 1; d >= 0; d--) {
                if (++idx[d] < h.shape.dim(d)) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    /**
     * All elements in row-major order as float32 (copies through the host for device tensors), decoded run by run
     * along the last dimension by {@link FloatRuns} (one run when the tensor is contiguous).
     */
    public float[] toFloatArray() {
        Tensor h = device().isCpu() ? this : to(Device.CPU);
        float[] out = new float[Math.toIntExact(h.numel())];
        if (out.length == 0) {
            return out;
        }
        MemorySegment seg = h.storage.segment();
        int r = h.rank();
        if (r == 0 || h.isContiguous()) {
            FloatRuns.read(seg, h.dtype, h.offset, 1, out, 0, out.length);
            return out;
        }
        int run = Math.toIntExact(h.shape.dim(r - 1));
        long runStride = h.strides[r - 1];
        long[] idx = new long[r - 1];
        for (int pos = 0; pos < out.length; pos += run) {
            long elem = h.offset;
            for (int d = 0; d < r - 1; d++) {
                elem += idx[d] * h.strides[d];
            }
            FloatRuns.read(seg, h.dtype, elem, runStride, out, pos, run);
            for (int d = r - 2; d >= 0; d--) {
                if (++idx[d] < h.shape.dim(d)) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    private MemorySegment hostSegment() {
        if (!device().isCpu()) {
            throw new IllegalStateException("element access on a " + device() + " tensor: copy it to the CPU first");
        }
        return storage.segment();
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + shape + " " + device() + (isContiguous() ? "" : " strided") + "]";
    }
}
