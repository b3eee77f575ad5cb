package dev.loraid.tensor.pth;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Python values the restricted unpickler builds. Scalars are plain Java objects ({@code String}, {@code Long},
 * {@code BigInteger}, {@code Double}, {@code Boolean}, {@link #NONE}); containers are the classes here. Each
 * container knows its nesting depth so that a pickle cannot build a structure deep enough to overflow a later walk
 * (the depth of a list or dict only grows as items are added, so a value mutated after being nested elsewhere may
 * be under-counted; nothing here walks values recursively, so that stays harmless).
 *
 * <p>Containers never print their items: {@code toString} is a type name, so an error message about a cyclic or
 * huge value stays short.
 */
final class PyValue {
    /** Python's {@code None}. */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    private PyValue() {
    }

    /** A short Python type name for messages: {@code str}, {@code int}, {@code list}, ... */
    static String typeName(Object v) {
        return switch (v) {
            case null -> "null";
            case String s -> "str";
            case Long l -> "int";
            case java.math.BigInteger b -> "int";
            case Double d -> "float";
            case Boolean b -> "bool";
            case Tuple t -> "tuple of " + t.items().size();
            case PyList l -> "list";
            case PyDict d -> "dict";
            case TorchGlobal g -> g.qualifiedName();
            case TensorRef t -> "tensor";
            case StorageRef s -> "storage";
            default -> v == NONE ? "None" : v.getClass().getSimpleName();
        };
    }

    /** Nesting depth: 0 for scalars, 1 + the deepest item for containers. */
    static int depthOf(Object v) {
        return switch (v) {
            case Tuple t -> t.depth();
            case PyList l -> l.depth();
            case PyDict d -> d.depth();
            case null, default -> 0;
        };
    }

    /** An immutable tuple. */
    record Tuple(List<Object> items, int depth) {
        static Tuple of(List<Object> items) {
            int d = 0;
            for (Object o : items) {
                d = Math.max(d, depthOf(o));
            }
            return new Tuple(Collections.unmodifiableList(items), d + 1);
        }

        Object get(int i) {
            return items.get(i);
        }

        int size() {
            return items.size();
        }

        @Override
        public String toString() {
            return "tuple of " + items.size();
        }
    }

    /** A mutable list. Identity equality: Python lists are unhashable and never dict keys. */
    static final class PyList {
        final List<Object> items = new ArrayList<>();
        private int depth = 1;

        int depth() {
            return depth;
        }

        void add(Object item) {
            items.add(item);
            depth = Math.max(depth, depthOf(item) + 1);
        }

        @Override
        public String toString() {
            return "list of " + items.size();
        }
    }

    /** A mutable dict ({@code dict} or {@code collections.OrderedDict}: both keep insertion order). Keys are str or int. */
    static final class PyDict {
        final Map<Object, Object> items = new LinkedHashMap<>();
        private int depth = 1;

        int depth() {
            return depth;
        }

        void put(Object key, Object value) {
            items.put(key, value);
            depth = Math.max(depth, depthOf(value) + 1);
        }

        @Override
        public String toString() {
            return "dict of " + items.size();
        }
    }
}
