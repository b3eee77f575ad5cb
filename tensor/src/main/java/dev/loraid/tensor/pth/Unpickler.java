package dev.loraid.tensor.pth;

import dev.loraid.tensor.pth.PyValue.PyDict;
import dev.loraid.tensor.pth.PyValue.PyList;
import dev.loraid.tensor.pth.PyValue.Tuple;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted pickle machine: the opcodes {@code torch.save} writes (protocol 2, plus the few protocol-4 forms a
 * pickle may use for the same values) and nothing that could run code. Globals resolve only to
 * {@link TorchGlobal} tags; REDUCE interprets those tags itself ({@code OrderedDict()}, {@code _rebuild_tensor_v2},
 * {@code _rebuild_parameter}); BUILD only accepts a dict's state and ignores it (the {@code _metadata} of
 * {@code state_dict()}); persistent ids go to a {@link PersistentLoader}.
 *
 * <p>Bounded by construction: every opcode does O(1) work plus the stack items it consumes, each of which was pushed
 * once, so time and memory are linear in the pickle's length; lengths are checked against the bytes left before
 * anything is allocated; containers nested deeper than {@link #MAX_DEPTH} are refused. Errors are
 * {@link PthFormatException}s naming {@code where} and the byte offset.
 */
final class Unpickler {
    /** Deeper nesting than this is refused; a state dict is 4 levels deep (dict, tensor args, size tuple, int). */
    static final int MAX_DEPTH = 100;
    /** Longest module or name line after GLOBAL, and longest integer (LONG1/LONG4) in bytes. */
    private static final int MAX_LINE = 1024;
    private static final int MAX_LONG_BYTES = 64;
    private static final int MAX_RANK = 64;
    private static final ValueLayout.OfInt LE_I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong BE_I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** Turns a persistent id ({@code BINPERSID}) into a value, or refuses it. */
    interface PersistentLoader {
        Object load(Tuple pid, String where) throws PthFormatException;
    }

    /** The unpickled value and the offset just past its STOP. */
    record Result(Object value, long end) {
    }

    private final MemorySegment bytes;
    private final long limit;
    private final String where;
    private final PersistentLoader loader;
    private final long start;
    private long pos;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private Unpickler(MemorySegment bytes, long start, long limit, String where, PersistentLoader loader) {
        this.bytes = bytes;
        this.start = start;
        this.pos = start;
        this.limit = limit;
        this.where = where;
        this.loader = loader;
    }

    /** Unpickles one pickle from {@code bytes[start, limit)}; bytes after its STOP are not read. */
    static Result load(MemorySegment bytes, long start, long limit, String where, PersistentLoader loader) throws PthFormatException {
        Unpickler u = new Unpickler(bytes, start, limit, where, loader);
        Object v = u.run();
        return new Result(v, u.pos);
    }

    private Object run() throws PthFormatException {
        while (true) {
            long at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > 5) {
                        throw error(at, "pickle protocol " + proto + " is not supported (torch.save writes 2)");
                    }
                }
                case 0x95 -> skip(8); // FRAME (protocol 4): a length hint only
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw error(at, "STOP with " + stack.size() + " values and " + marks.size() + " marks on the stack (expected one value)");
                    }
                    return stack.getFirst();
                }
                case 'c' -> push(global(at, line(), line())); // GLOBAL module\nname\n
                case 0x93 -> { // STACK_GLOBAL (protocol 4)
                    Object name = pop(at);
                    Object module = pop(at);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error(at, "STACK_GLOBAL needs two strings, got " + PyValue.typeName(module) + " and " + PyValue.typeName(name));
                    }
                    push(global(at, m, n));
                }
                case 'q' -> memo.put((long) u8(), peek(at)); // BINPUT
                case 'r' -> memo.put(u32(), peek(at)); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek(at)); // MEMOIZE (protocol 4)
                case 'h' -> push(memoGet(at, u8())); // BINGET
                case 'j' -> push(memoGet(at, u32())); // LONG_BINGET
                case '(' -> marks.add(stack.size()); // MARK
                case ')' -> push(Tuple.of(new ArrayList<>())); // EMPTY_TUPLE
                case 't' -> push(tuple(at, popMark(at))); // TUPLE
                case 0x85, 0x86, 0x87 -> { // TUPLE1..3
                    int n = op - 0x84;
                    if (stack.size() - lastMark() < n) {
                        throw error(at, "TUPLE" + n + " on a stack of " + (stack.size() - lastMark()) + " values");
                    }
                    List<Object> top = stack.subList(stack.size() - n, stack.size());
                    List<Object> items = new ArrayList<>(top);
                    top.clear();
                    push(tuple(at, items));
                }
                case 'X' -> push(string(at, u32())); // BINUNICODE
                case 0x8c -> push(string(at, u8())); // SHORT_BINUNICODE
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) (u8() | u8() << 8)); // BININT2
                case 'J' -> { // BININT
                    need(at, 4);
                    push((long) bytes.get(LE_I32, pos));
                    pos += 4;
                }
                case 0x8a -> push(longValue(at, u8())); // LONG1
                case 0x8b -> push(longValue(at, u32())); // LONG4
                case 'G' -> { // BINFLOAT: big-endian double
                    need(at, 8);
                    push(Double.longBitsToDouble(bytes.get(BE_I64, pos)));
                    pos += 8;
                }
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'N' -> push(PyValue.NONE); // NONE
                case '}' -> push(new PyDict()); // EMPTY_DICT
                case ']' -> push(new PyList()); // EMPTY_LIST
                case 's' -> { // SETITEM
                    Object value = pop(at);
                    Object key = pop(at);
                    put(at, peek(at), key, value);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark(at);
                    if (items.size() % 2 != 0) {
                        throw error(at, "SETITEMS with an odd number (" + items.size() + ") of keys and values");
                    }
                    Object dict = peek(at);
                    for (int i = 0; i < items.size(); i += 2) {
                        put(at, dict, items.get(i), items.get(i + 1));
                    }
                }
                case 'a' -> { // APPEND
                    Object item = pop(at);
                    append(at, peek(at), item);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark(at);
                    Object list = peek(at);
                    for (Object item : items) {
                        append(at, list, item);
                    }
                }
                case 'R' -> { // REDUCE
                    Object args = pop(at);
                    Object callable = pop(at);
                    push(reduce(at, callable, args));
                }
                case 'b' -> { // BUILD: obj.__setstate__(state); only state_dict()'s {'_metadata': ...} on a dict
                    Object state = pop(at);
                    Object obj = peek(at);
                    if (!(obj instanceof PyDict) || !(state instanceof PyDict)) {
                        throw error(at, "BUILD of a " + PyValue.typeName(obj) + " with a " + PyValue.typeName(state)
                            + " state (only a dict's attributes, such as state_dict()'s _metadata, are accepted)");
                    }
                }
                case 'Q' -> { // BINPERSID
                    Object pid = pop(at);
                    if (!(pid instanceof Tuple t)) {
                        throw error(at, "persistent id is a " + PyValue.typeName(pid) + ", expected a tuple");
                    }
                    push(loader.load(t, where + " at byte " + (at - start)));
                }
                default -> throw error(at, String.format("pickle opcode 0x%02x is not supported by this restricted reader", op));
            }
        }
    }

    private TorchGlobal global(long at, String module, String name) throws PthFormatException {
        TorchGlobal g = TorchGlobal.find(module, name);
        if (g == null) {
            throw error(at, "the global '" + module + "." + name + "' is not allowed (a .pth file may only name "
                + TorchGlobal.allowed() + "); nothing was executed");
        }
        return g;
    }

    private Object reduce(long at, Object callable, Object args) throws PthFormatException {
        if (!(callable instanceof TorchGlobal g)) {
            throw error(at, "REDUCE calls a " + PyValue.typeName(callable) + ", not an allowed global");
        }
        if (!(args instanceof Tuple a)) {
            throw error(at, "REDUCE of " + g.qualifiedName() + " with a " + PyValue.typeName(args) + " as arguments");
        }
        return switch (g) {
            case ORDERED_DICT -> {
                if (a.size() != 0) {
                    throw error(at, "collections.OrderedDict called with " + a.size() + " arguments (torch.save passes none)");
                }
                yield new PyDict();
            }
            case REBUILD_TENSOR_V2 -> rebuildTensor(at, a);
            case REBUILD_PARAMETER -> {
                // _rebuild_parameter(data, requires_grad, backward_hooks): the tensor itself, marked as a parameter
                if (a.size() != 3 || !(a.get(0) instanceof TensorRef t) || !(a.get(1) instanceof Boolean)
                    || !(a.get(2) instanceof PyDict)) {
                    throw error(at, "torch._utils._rebuild_parameter expects (tensor, bool, dict), got " + argTypes(a));
                }
                yield t;
            }
            default -> throw error(at, g.qualifiedName() + " is a storage type, not something to call");
        };
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private TensorRef rebuildTensor(long at, Tuple a) throws PthFormatException {
        if ((a.size() != 6 && a.size() != 7) || !(a.get(0) instanceof StorageRef storage) || !(a.get(1) instanceof Long offset)
            || !(a.get(2) instanceof Tuple size) || !(a.get(3) instanceof Tuple stride) || !(a.get(4) instanceof Boolean)
            || !(a.get(5) instanceof PyDict) || (a.size() == 7 && !(a.get(6) instanceof PyDict))) {
            throw error(at, "torch._utils._rebuild_tensor_v2 expects (storage, int, tuple, tuple, bool, dict[, dict]), got " + argTypes(a));
        }
        long[] dims = longs(at, "size", size);
        long[] strides = longs(at, "stride", stride);
        if (dims.length != strides.length) {
            throw error(at, "tensor size has " + dims.length + " dimensions but stride has " + strides.length);
        }
        return new TensorRef(storage, offset, dims, strides);
    }

    private long[] longs(long at, String what, Tuple t) throws PthFormatException {
        if (t.size() > MAX_RANK) {
            throw error(at, "tensor " + what + " has " + t.size() + " dimensions (at most " + MAX_RANK + ")");
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.get(i) instanceof Long v)) {
                throw error(at, "tensor " + what + " holds a " + PyValue.typeName(t.get(i)) + ", expected int");
            }
            out[i] = v;
        }
        return out;
    }

    private static String argTypes(Tuple a) {
        List<String> names = new ArrayList<>();
        for (Object o : a.items()) {
            names.add(PyValue.typeName(o));
        }
        return "(" + String.join(", ", names) + ")";
    }

    private void put(long at, Object dict, Object key, Object value) throws PthFormatException {
        if (!(dict instanceof PyDict d)) {
            throw error(at, "SETITEM on a " + PyValue.typeName(dict) + ", not a dict");
        }
        if (!(key instanceof String) && !(key instanceof Long)) {
            throw error(at, "dict key is a " + PyValue.typeName(key) + " (only str and int keys are accepted)");
        }
        d.put(key, value);
        checkDepth(at, d.depth());
    }

    private void append(long at, Object list, Object item) throws PthFormatException {
        if (!(list instanceof PyList l)) {
            throw error(at, "APPEND to a " + PyValue.typeName(list) + ", not a list");
        }
        l.add(item);
        checkDepth(at, l.depth());
    }

    private Tuple tuple(long at, List<Object> items) throws PthFormatException {
        Tuple t = Tuple.of(items);
        checkDepth(at, t.depth());
        return t;
    }

    private void checkDepth(long at, int depth) throws PthFormatException {
        if (depth > MAX_DEPTH) {
            throw error(at, "values nested deeper than " + MAX_DEPTH + " levels (a state dict needs 4)");
        }
    }

    private Object memoGet(long at, long index) throws PthFormatException {
        Object v = memo.get(index);
        if (v == null) {
            throw error(at, "memo entry " + index + " read before it was written");
        }
        return v;
    }

    private void push(Object v) {
        stack.add(v);
    }

    private int lastMark() {
        return marks.isEmpty() ? 0 : marks.getLast();
    }

    private Object pop(long at) throws PthFormatException {
        if (stack.size() <= lastMark()) {
            throw error(at, "stack underflow (opcode needs a value" + (marks.isEmpty() ? "" : " above the mark") + ")");
        }
        return stack.removeLast();
    }

    private Object peek(long at) throws PthFormatException {
        if (stack.size() <= lastMark()) {
            throw error(at, "stack underflow (opcode needs a value" + (marks.isEmpty() ? "" : " above the mark") + ")");
        }
        return stack.getLast();
    }

    /** The values above the last MARK, removing them and the mark. */
    private List<Object> popMark(long at) throws PthFormatException {
        if (marks.isEmpty()) {
            throw error(at, "opcode needs a MARK and there is none");
        }
        int m = marks.removeLast();
        List<Object> top = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    // ---- reading bytes ----

    private void need(long at, long n) throws PthFormatException {
        if (n > limit - pos) {
            throw error(at, "pickle is truncated: needs " + n + " more bytes but only " + (limit - pos)
                + " remain (no STOP; unexpected end of data)");
        }
    }

    private int u8() throws PthFormatException {
        need(pos, 1);
        return bytes.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
    }

    private long u32() throws PthFormatException {
        need(pos, 4);
        long v = bytes.get(LE_I32, pos) & 0xFFFFFFFFL;
        pos += 4;
        return v;
    }

    private void skip(long n) throws PthFormatException {
        need(pos, n);
        pos += n;
    }

    private String string(long at, long length) throws PthFormatException {
        need(at, length);
        byte[] b = bytes.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE);
        pos += length;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw error(at, "string of " + length + " bytes is not valid UTF-8");
        }
    }

    /** A line of a GLOBAL opcode: ASCII up to '\n', at most {@link #MAX_LINE} bytes. */
    private String line() throws PthFormatException {
        long start = pos;
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = u8();
            if (c == '\n') {
                return sb.toString();
            }
            if (c < 0x20 || c > 0x7e || sb.length() >= MAX_LINE) {
                throw error(start, "GLOBAL name is not a short printable ASCII line");
            }
            sb.append((char) c);
        }
    }

    /** LONG1/LONG4: little-endian two's complement; a Long when it fits. */
    private Object longValue(long at, long length) throws PthFormatException {
        if (length > MAX_LONG_BYTES) {
            throw error(at, "integer of " + length + " bytes (at most " + MAX_LONG_BYTES + ")");
        }
        need(at, length);
        byte[] le = bytes.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE);
        pos += length;
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private PthFormatException error(long at, String problem) {
        return new PthFormatException(where, problem + " (at byte " + (at - start) + " of the pickle)");
    }
}
