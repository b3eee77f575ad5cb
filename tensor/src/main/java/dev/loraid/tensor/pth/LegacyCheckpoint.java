package dev.loraid.tensor.pth;

import dev.loraid.tensor.pth.PyValue.PyDict;
import dev.loraid.tensor.pth.PyValue.PyList;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The legacy layout of {@code torch.save} ({@code _use_new_zipfile_serialization=False}, and torch before 1.6):
 * five pickles in a row (magic number, protocol version 1001, sys_info, the object, the list of storage keys),
 * then for each key in that list's order an 8-byte little-endian element count and the raw bytes. The keys are
 * decimal memory addresses sorted as strings; the list's order is followed as is, never re-sorted.
 */
final class LegacyCheckpoint {
    static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    static final long PROTOCOL_VERSION = 1001;
    private static final ValueLayout.OfLong LE_I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private LegacyCheckpoint() {
    }

    /** Whether {@code file} starts like a pickle (the PROTO opcode). */
    static boolean isLegacy(MemorySegment file) {
        return file.byteSize() >= 2 && (file.get(ValueLayout.JAVA_BYTE, 0) & 0xFF) == 0x80;
    }

    static StateDict read(MemorySegment file, String source) throws PthFormatException {
        long size = file.byteSize();
        Unpickler.PersistentLoader none = (pid, at) -> {
            throw new PthFormatException(at, "persistent id outside the object pickle");
        };
        Unpickler.Result magic = Unpickler.load(file, 0, size, source + ": pickle 1 (magic number)", none);
        Object m = magic.value() instanceof Long l ? BigInteger.valueOf(l) : magic.value();
        if (!MAGIC.equals(m)) {
            throw new PthFormatException(source, "starts with a pickle that is not torch's magic number 0x1950a86a20f9469cfc6c");
        }
        Unpickler.Result version = Unpickler.load(file, magic.end(), size, source + ": pickle 2 (protocol version)", none);
        if (!Long.valueOf(PROTOCOL_VERSION).equals(version.value())) {
            throw new PthFormatException(source, "legacy protocol version is " + PyValue.typeName(version.value()) + " "
                + (version.value() instanceof Long ? version.value() : "") + ", expected " + PROTOCOL_VERSION);
        }
        Unpickler.Result sysInfo = Unpickler.load(file, version.end(), size, source + ": pickle 3 (sys_info)", none);
        if (!(sysInfo.value() instanceof PyDict info)) {
            throw new PthFormatException(source, "sys_info is a " + PyValue.typeName(sysInfo.value()) + ", expected a dict");
        }
        if (Boolean.FALSE.equals(info.items.get("little_endian"))) {
            throw new PthFormatException(source, "was written on a big-endian machine; only little-endian files are read");
        }
        Map<String, StorageRef> seen = new LinkedHashMap<>();
        Unpickler.Result object = Unpickler.load(file, sysInfo.end(), size, source + ": pickle 4 (the object)", (pid, at) -> {
            StorageRef s = StorageRef.parse(pid, true, at);
            StorageRef before = seen.putIfAbsent(s.key(), s);
            if (before != null) {
                before.checkSame(s, at);
                return before;
            }
            return s;
        });
        Unpickler.Result keys = Unpickler.load(file, object.end(), size, source + ": pickle 5 (storage keys)", none);
        if (!(keys.value() instanceof PyList keyList)) {
            throw new PthFormatException(source, "storage key list is a " + PyValue.typeName(keys.value()) + ", expected a list");
        }
        Map<String, MemorySegment> storages = new HashMap<>();
        Set<String> done = new HashSet<>();
        long p = keys.end();
        for (Object k : keyList.items) {
            if (!(k instanceof String key)) {
                throw new PthFormatException(source, "storage key list holds a " + PyValue.typeName(k) + ", expected str");
            }
            StorageRef s = seen.get(key);
            if (s == null || !done.add(key)) {
                throw new PthFormatException(source, "storage key '" + key + "' " + (s == null ? "is not used by any tensor" : "is listed twice"));
            }
            if (size - p < 8) {
                throw new PthFormatException(source, "storage '" + key + "': file ends at byte " + size + " before its element count");
            }
            long count = file.get(LE_I64, p);
            p += 8;
            if (count != s.numel()) {
                throw new PthFormatException(source, "storage '" + key + "': the file holds " + count + " elements but the pickle declares "
                    + s.numel() + ": the storage size does not match numel");
            }
            if (count > (size - p) / s.dtype().byteSize()) {
                throw new PthFormatException(source, "storage '" + key + "': " + count + " " + s.dtype() + " elements run past the end of the file ("
                    + (size - p) + " bytes left): truncated?");
            }
            long bytes = count * s.dtype().byteSize();
            storages.put(key, file.asSlice(p, bytes));
            p += bytes;
        }
        for (String key : seen.keySet()) {
            if (!done.contains(key)) {
                throw new PthFormatException(source, "storage '" + key + "' is used by a tensor but missing from the key list");
            }
        }
        if (p != size) {
            throw new PthFormatException(source, (size - p) + " bytes after the last storage");
        }
        return StateDict.of(object.value(), storages, source);
    }
}
