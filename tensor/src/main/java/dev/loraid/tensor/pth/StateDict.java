package dev.loraid.tensor.pth;

import dev.loraid.tensor.pth.PyValue.PyDict;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a {@code .pth} file holds once read and checked: named tensor views in pickle order, and the bytes of each
 * storage they view. Built by {@link ZipCheckpoint} or {@link LegacyCheckpoint}; {@link #of} checks that every
 * view lies inside its storage, so {@link PthFile} can make tensors without further checks.
 */
record StateDict(Map<String, TensorRef> tensors, Map<String, MemorySegment> storages) {

    /**
     * The top-level pickled value as a state dict: a dict of str → tensor. Each tensor's storage must be in
     * {@code storages} with exactly {@code numel × element size} bytes (the readers check that when they meet the
     * persistent id), and each view (offset, size, stride) must stay inside it.
     */
    static StateDict of(Object top, Map<String, MemorySegment> storages, String source) throws PthFormatException {
        if (!(top instanceof PyDict dict)) {
            throw new PthFormatException(source, "holds a " + PyValue.typeName(top) + ", not a state dict (a dict of tensors)");
        }
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        for (Map.Entry<Object, Object> e : dict.items.entrySet()) {
            if (!(e.getKey() instanceof String name)) {
                throw new PthFormatException(source, "state dict key " + e.getKey() + " is an int, not a tensor name");
            }
            if (!(e.getValue() instanceof TensorRef t)) {
                throw new PthFormatException(source, "'" + name + "' is a " + PyValue.typeName(e.getValue()) + ", not a tensor");
            }
            MemorySegment bytes = storages.get(t.storage().key());
            if (bytes == null || bytes.byteSize() != t.storage().numel() * t.storage().dtype().byteSize()) {
                throw new IllegalStateException(source + ": storage '" + t.storage().key() + "' was not checked"); // a reader bug
            }
            checkView(name, t, source);
            tensors.put(name, t);
        }
        return new StateDict(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(storages));
    }

    /** The elements {@code offset + Σ i_d · stride_d} for {@code 0 ≤ i_d < size_d} must lie in {@code [0, numel)}. */
    private static void checkView(String name, TensorRef t, String source) throws PthFormatException {
        String view = "tensor '" + name + "' (size " + Arrays.toString(t.size()) + ", stride " + Arrays.toString(t.stride())
            + ", storage offset " + t.offset() + ") over storage '" + t.storage().key() + "' of " + t.storage().numel()
            + " " + t.storage().dtype() + " elements";
        long last = t.offset();
        boolean empty = false;
        if (t.offset() < 0) {
            throw new PthFormatException(source, view + ": negative storage offset");
        }
        try {
            for (int d = 0; d < t.size().length; d++) {
                if (t.size()[d] < 0 || t.stride()[d] < 0) {
                    throw new PthFormatException(source, view + ": negative size or stride");
                }
                if (t.size()[d] == 0) {
                    empty = true;
                } else {
                    last = Math.addExact(last, Math.multiplyExact(t.size()[d] - 1, t.stride()[d]));
                }
            }
            long numel = 1;
            for (long s : t.size()) {
                numel = Math.multiplyExact(numel, s);
            }
        } catch (ArithmeticException e) {
            throw new PthFormatException(source, view + ": element offsets overflow 64 bits");
        }
        if (empty ? t.offset() > t.storage().numel() : last >= t.storage().numel()) {
            throw new PthFormatException(source, view + ": the view lies outside its storage (needs elements "
                + t.offset() + ".." + last + ", storage has " + t.storage().numel() + ")");
        }
    }
}
