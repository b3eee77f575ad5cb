package dev.loraid.tensor.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static dev.loraid.tensor.cuda.CuDnn.*;

/**
 * Builds one cuDNN backend operation graph (tensors, pointwise/matmul/reduction nodes), finalizes it and turns it
 * into an execution plan: the first engine config of heuristics mode A (then FALLBACK) that finalizes. Every native
 * descriptor is owned by this object until {@link #close}. Tensor UIDs are handed out in creation order from 1.
 */
final class CudnnGraph implements AutoCloseable {
    /** A tensor of the graph: its UID and its descriptor. */
    record Node(long uid, MemorySegment desc, String name) {
    }

    private final CuDnn dnn;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final List<MemorySegment> owned = new ArrayList<>();
    private final List<MemorySegment> ops = new ArrayList<>();
    private final String graphName;
    private long nextUid = 1;
    private MemorySegment plan;
    private long workspaceBytes;

    CudnnGraph(CuDnn dnn, MemorySegment handle, String graphName) {
        this.dnn = dnn;
        this.handle = handle;
        this.graphName = graphName;
    }

    private MemorySegment create(int type, String what) {
        MemorySegment d = dnn.createDescriptor(type, graphName + " " + what);
        owned.add(d);
        return d;
    }

    private void setInts(MemorySegment d, int attr, int type, String what, int... v) {
        dnn.setAttribute(d, attr, type, v.length, arena.allocateFrom(ValueLayout.JAVA_INT, v), graphName + " " + what);
    }

    private void setLongs(MemorySegment d, int attr, String what, long... v) {
        dnn.setAttribute(d, attr, TYPE_INT64, v.length, arena.allocateFrom(ValueLayout.JAVA_LONG, v),
            graphName + " " + what);
    }

    private void setBool(MemorySegment d, int attr, boolean v, String what) {
        dnn.setAttribute(d, attr, TYPE_BOOLEAN, 1, arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) (v ? 1 : 0)),
            graphName + " " + what);
    }

    private void setDescs(MemorySegment d, int attr, String what, MemorySegment... v) {
        MemorySegment arr = arena.allocate(ValueLayout.ADDRESS, v.length);
        for (int i = 0; i < v.length; i++) {
            arr.setAtIndex(ValueLayout.ADDRESS, i, v[i]);
        }
        dnn.setAttribute(d, attr, TYPE_BACKEND_DESCRIPTOR, v.length, arr, graphName + " " + what);
    }

    private void setHandle(MemorySegment d, int attr, String what) {
        MemorySegment h = arena.allocate(ValueLayout.ADDRESS);
        h.set(ValueLayout.ADDRESS, 0, handle);
        dnn.setAttribute(d, attr, TYPE_HANDLE, 1, h, graphName + " " + what);
    }

    /**
     * A tensor: cuDNN data type, dims and strides in elements, byte alignment of its data pointer; virtual tensors
     * never reach memory, by-value tensors are host scalars passed in the variant pack.
     */
    Node tensor(String name, int dataType, long[] dims, long[] strides, long alignment, boolean virtual,
                boolean byValue) {
        String what = "tensor " + name + " " + java.util.Arrays.toString(dims) + " strides "
            + java.util.Arrays.toString(strides);
        MemorySegment d = create(TENSOR_DESCRIPTOR, what);
        long uid = nextUid++;
        setInts(d, ATTR_TENSOR_DATA_TYPE, TYPE_DATA_TYPE, what + " DATA_TYPE", dataType);
        setLongs(d, ATTR_TENSOR_DIMENSIONS, what + " DIMENSIONS", dims);
        setLongs(d, ATTR_TENSOR_STRIDES, what + " STRIDES", strides);
        setLongs(d, ATTR_TENSOR_UNIQUE_ID, what + " UNIQUE_ID", uid);
        setLongs(d, ATTR_TENSOR_BYTE_ALIGNMENT, what + " BYTE_ALIGNMENT", alignment);
        setBool(d, ATTR_TENSOR_IS_VIRTUAL, virtual, what + " IS_VIRTUAL");
        if (byValue) {
            setBool(d, ATTR_TENSOR_IS_BY_VALUE, true, what + " IS_BY_VALUE");
        }
        dnn.finalizeDescriptor(d, graphName + " " + what);
        return new Node(uid, d, name);
    }

    /** A virtual fp32 intermediate with contiguous strides. */
    Node virtualF32(String name, long... dims) {
        return tensor(name, DATA_FLOAT, dims, contiguous(dims), 16, true, false);
    }

    static long[] contiguous(long[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    /** {@code y = x (mode) b} (b null for unary modes), computed in fp32. */
    void pointwise(String name, int mode, Node x, Node b, Node y) {
        String what = "pointwise " + name;
        MemorySegment pw = create(POINTWISE_DESCRIPTOR, what);
        setInts(pw, ATTR_POINTWISE_MODE, TYPE_POINTWISE_MODE, what + " MODE", mode);
        setInts(pw, ATTR_POINTWISE_MATH_PREC, TYPE_DATA_TYPE, what + " MATH_PREC", DATA_FLOAT);
        dnn.finalizeDescriptor(pw, graphName + " " + what);
        MemorySegment op = create(OPERATION_POINTWISE_DESCRIPTOR, what + " operation");
        setDescs(op, ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, what + " PW_DESCRIPTOR", pw);
        setDescs(op, ATTR_OPERATION_POINTWISE_XDESC, what + " XDESC (" + x.name() + ")", x.desc());
        if (b != null) {
            setDescs(op, ATTR_OPERATION_POINTWISE_BDESC, what + " BDESC (" + b.name() + ")", b.desc());
        }
        setDescs(op, ATTR_OPERATION_POINTWISE_YDESC, what + " YDESC (" + y.name() + ")", y.desc());
        dnn.finalizeDescriptor(op, graphName + " " + what + " operation");
        ops.add(op);
    }

    /** {@code c = a · b} batched over the leading dims, fp32 accumulation. */
    void matmul(String name, Node a, Node b, Node c) {
        String what = "matmul " + name;
        MemorySegment mm = create(MATMUL_DESCRIPTOR, what);
        setInts(mm, ATTR_MATMUL_COMP_TYPE, TYPE_DATA_TYPE, what + " COMP_TYPE", DATA_FLOAT);
        dnn.finalizeDescriptor(mm, graphName + " " + what);
        MemorySegment op = create(OPERATION_MATMUL_DESCRIPTOR, what + " operation");
        setDescs(op, ATTR_OPERATION_MATMUL_ADESC, what + " ADESC (" + a.name() + ")", a.desc());
        setDescs(op, ATTR_OPERATION_MATMUL_BDESC, what + " BDESC (" + b.name() + ")", b.desc());
        setDescs(op, ATTR_OPERATION_MATMUL_CDESC, what + " CDESC (" + c.name() + ")", c.desc());
        setDescs(op, ATTR_OPERATION_MATMUL_DESC, what + " DESC", mm);
        dnn.finalizeDescriptor(op, graphName + " " + what + " operation");
        ops.add(op);
    }

    /** {@code y = reduce(x)} over the dims where y has size 1, fp32. */
    void reduction(String name, int operator, Node x, Node y) {
        String what = "reduction " + name;
        MemorySegment rd = create(REDUCTION_DESCRIPTOR, what);
        setInts(rd, ATTR_REDUCTION_OPERATOR, TYPE_REDUCTION_OPERATOR_TYPE, what + " OPERATOR", operator);
        setInts(rd, ATTR_REDUCTION_COMP_TYPE, TYPE_DATA_TYPE, what + " COMP_TYPE", DATA_FLOAT);
        dnn.finalizeDescriptor(rd, graphName + " " + what);
        MemorySegment op = create(OPERATION_REDUCTION_DESCRIPTOR, what + " operation");
        setDescs(op, ATTR_OPERATION_REDUCTION_XDESC, what + " XDESC (" + x.name() + ")", x.desc());
        setDescs(op, ATTR_OPERATION_REDUCTION_YDESC, what + " YDESC (" + y.name() + ")", y.desc());
        setDescs(op, ATTR_OPERATION_REDUCTION_DESC, what + " DESC", rd);
        dnn.finalizeDescriptor(op, graphName + " " + what + " operation");
        ops.add(op);
    }

    /** {@code y} = {@code x} seen with y's dims, strides and type (a transpose of the last two dims, in the SDPA graphs). */
    void reshape(String name, Node x, Node y) {
        String what = "reshape " + name;
        MemorySegment op = create(OPERATION_RESHAPE_DESCRIPTOR, what + " operation");
        setDescs(op, ATTR_OPERATION_RESHAPE_XDESC, what + " XDESC (" + x.name() + ")", x.desc());
        setDescs(op, ATTR_OPERATION_RESHAPE_YDESC, what + " YDESC (" + y.name() + ")", y.desc());
        dnn.finalizeDescriptor(op, graphName + " " + what + " operation");
        ops.add(op);
    }

    /**
     * Finalizes the operation graph and picks the plan: the engine configs of heuristics mode A, then of mode
     * FALLBACK, in order; the first whose execution plan finalizes wins. Throws the last failure (with every tried
     * config's message) when none does.
     */
    void build() {
        MemorySegment graph = create(OPERATIONGRAPH_DESCRIPTOR, "operation graph");
        setHandle(graph, ATTR_OPERATIONGRAPH_HANDLE, "operation graph HANDLE");
        setDescs(graph, ATTR_OPERATIONGRAPH_OPS, "operation graph OPS (" + ops.size() + " operations)",
            ops.toArray(MemorySegment[]::new));
        dnn.finalizeDescriptor(graph, graphName + " operation graph");
        StringBuilder tried = new StringBuilder();
        int failures = 0;
        CuDnn.Failure last = null;
        for (int mode : new int[] {HEUR_MODE_A, HEUR_MODE_FALLBACK}) {
            String modeName = mode == HEUR_MODE_A ? "heuristics mode A" : "heuristics mode FALLBACK";
            try {
                for (MemorySegment cfg : engineConfigs(graph, mode, modeName)) {
                    try {
                        MemorySegment p = create(EXECUTION_PLAN_DESCRIPTOR, modeName + " execution plan");
                        setHandle(p, ATTR_EXECUTION_PLAN_HANDLE, "execution plan HANDLE");
                        setDescs(p, ATTR_EXECUTION_PLAN_ENGINE_CONFIG, "execution plan ENGINE_CONFIG", cfg);
                        dnn.finalizeDescriptor(p, graphName + " " + modeName + " execution plan");
                        MemorySegment ws = arena.allocate(ValueLayout.JAVA_LONG);
                        dnn.getAttribute(p, ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, TYPE_INT64, 1, ws,
                            graphName + " execution plan WORKSPACE_SIZE");
                        plan = p;
                        workspaceBytes = ws.get(ValueLayout.JAVA_LONG, 0);
                        return;
                    } catch (CuDnn.Failure e) {
                        last = e;
                        if (failures++ < 8) { // the first few say enough; every config fails alike as a rule
                            tried.append("\n  ").append(e.getMessage());
                        }
                    }
                }
            } catch (CuDnn.Failure e) {
                last = e;
                tried.append("\n  ").append(e.getMessage());
            }
        }
        throw new CuDnn.Failure(graphName + ": no engine config finalizes an execution plan; tried:"
            + (tried.isEmpty() ? " (heuristics returned no configs)" : tried)
            + (failures > 8 ? "\n  ... " + (failures - 8) + " more" : ""),
            last != null ? last.status() : CuDnn.STATUS_NOT_SUPPORTED);
    }

    private List<MemorySegment> engineConfigs(MemorySegment graph, int mode, String modeName) {
        MemorySegment heur = create(ENGINEHEUR_DESCRIPTOR, modeName);
        setDescs(heur, ATTR_ENGINEHEUR_OPERATION_GRAPH, modeName + " OPERATION_GRAPH", graph);
        setInts(heur, ATTR_ENGINEHEUR_MODE, TYPE_HEUR_MODE, modeName + " MODE", mode);
        dnn.finalizeDescriptor(heur, graphName + " " + modeName);
        long n = dnn.getAttribute(heur, ATTR_ENGINEHEUR_RESULTS, TYPE_BACKEND_DESCRIPTOR, 0, MemorySegment.NULL,
            graphName + " " + modeName + " RESULTS count");
        if (n <= 0) {
            return List.of();
        }
        MemorySegment arr = arena.allocate(ValueLayout.ADDRESS, n);
        for (long i = 0; i < n; i++) {
            arr.setAtIndex(ValueLayout.ADDRESS, i, create(ENGINECFG_DESCRIPTOR, modeName + " engine config " + i));
        }
        long got = dnn.getAttribute(heur, ATTR_ENGINEHEUR_RESULTS, TYPE_BACKEND_DESCRIPTOR, n, arr,
            graphName + " " + modeName + " RESULTS");
        List<MemorySegment> out = new ArrayList<>();
        for (long i = 0; i < Math.min(n, got); i++) {
            out.add(arr.getAtIndex(ValueLayout.ADDRESS, i));
        }
        return out;
    }

    long workspaceBytes() {
        return workspaceBytes;
    }

    /**
     * Runs the plan on the handle's stream: {@code uids[i]} bound to {@code pointers[i]} (device addresses, or host
     * addresses for by-value tensors), {@code workspace} of at least {@link #workspaceBytes} bytes.
     */
    void execute(long[] uids, long[] pointers, long workspace) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pack = dnn.createDescriptor(VARIANT_PACK_DESCRIPTOR, graphName + " variant pack");
            try {
                MemorySegment ptrs = a.allocate(ValueLayout.ADDRESS, pointers.length);
                for (int i = 0; i < pointers.length; i++) {
                    ptrs.setAtIndex(ValueLayout.ADDRESS, i, MemorySegment.ofAddress(pointers[i]));
                }
                MemorySegment ws = a.allocate(ValueLayout.ADDRESS);
                ws.set(ValueLayout.ADDRESS, 0, MemorySegment.ofAddress(workspace));
                String what = graphName + " variant pack";
                dnn.setAttribute(pack, ATTR_VARIANT_PACK_UNIQUE_IDS, TYPE_INT64, uids.length,
                    a.allocateFrom(ValueLayout.JAVA_LONG, uids), what + " UNIQUE_IDS");
                dnn.setAttribute(pack, ATTR_VARIANT_PACK_DATA_POINTERS, TYPE_VOID_PTR, pointers.length, ptrs,
                    what + " DATA_POINTERS");
                dnn.setAttribute(pack, ATTR_VARIANT_PACK_WORKSPACE, TYPE_VOID_PTR, 1, ws, what + " WORKSPACE");
                dnn.finalizeDescriptor(pack, what);
                dnn.execute(handle, plan, pack, graphName);
            } finally {
                dnn.destroyDescriptor(pack);
            }
        }
    }

    /** A host scalar for a by-value tensor, alive as long as this graph. */
    MemorySegment hostFloat(float v) {
        return arena.allocateFrom(ValueLayout.JAVA_FLOAT, v);
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            dnn.destroyDescriptor(owned.get(i));
        }
        owned.clear();
        arena.close();
    }
}
