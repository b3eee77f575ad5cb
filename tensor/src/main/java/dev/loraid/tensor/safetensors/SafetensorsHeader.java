package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.json.Json;
import dev.loraid.tensor.json.JsonFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The validated header of a safetensors file: {@code u64 n (little-endian) | n bytes of JSON | data}. Nothing in
 * it is trusted before every check below has passed (format: github.com/huggingface/safetensors):
 * <ul>
 *   <li>the header length is at most {@link #MAX_HEADER_BYTES} and lies within the file;</li>
 *   <li>the JSON is well-formed UTF-8 JSON (strict parser, bounded depth), an object whose optional
 *       {@code __metadata__} maps strings to strings and whose other members are
 *       {@code {"dtype", "shape", "data_offsets"}} with nothing else;</li>
 *   <li>every dtype is known, every shape has non-negative dims, and numel × dtype size equals the span;</li>
 *   <li>the spans lie inside the data section, do not overlap, and cover it exactly (no gap, nothing after).</li>
 * </ul>
 * Work and memory are linear in the header length, which the caller's file size bounds.
 */
public final class SafetensorsHeader {
    /** Headers over 100 MB are refused: the largest real checkpoints have headers of a few MB. */
    public static final long MAX_HEADER_BYTES = 100L * 1000 * 1000;
    static final int MAX_RANK = 64;
    private static final int MAX_JSON_DEPTH = 8;
    private static final Set<String> INFO_KEYS = Set.of("dtype", "shape", "data_offsets");

    /** Reads {@code length} bytes at {@code offset} of the file (fewer only if the file ends). */
    @FunctionalInterface
    interface RangeReader {
        ByteBuffer read(long offset, int length) throws IOException;
    }

    private final Map<String, String> metadata;
    private final List<TensorInfo> tensors;
    private final long dataStart;
    private final long dataSize;

    private SafetensorsHeader(Map<String, String> metadata, List<TensorInfo> tensors, long dataStart, long dataSize) {
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataStart = dataStart;
        this.dataSize = dataSize;
    }

    /** The {@code __metadata__} map in file order (empty if absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every tensor, in the order of their data in the file. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** File offset of the data section: 8 + header length. */
    public long dataStart() {
        return dataStart;
    }

    public long dataSize() {
        return dataSize;
    }

    /** Reads and validates the header of a file of {@code fileSize} bytes; {@code source} names it in errors. */
    static SafetensorsHeader read(String source, long fileSize, RangeReader reader) throws IOException {
        if (fileSize < 8) {
            throw new SafetensorsFormatException(source, null, "file is " + fileSize
                + " bytes, too short for a safetensors file (an 8-byte header length, then a JSON header)");
        }
        ByteBuffer lenBytes = exactly(source, reader.read(0, 8), 8, "header length");
        long n = lenBytes.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(source, null, "header length " + Long.toUnsignedString(n)
                + " is over the " + MAX_HEADER_BYTES / 1000_000 + " MB limit: not a safetensors file?");
        }
        if (n > fileSize - 8) {
            throw new SafetensorsFormatException(source, null, "header length " + n + " runs past the end of the file ("
                + fileSize + " bytes): truncated, or not a safetensors file");
        }
        if (n < 2) {
            throw new SafetensorsFormatException(source, null, "header length " + n + " is too short for a JSON object");
        }
        ByteBuffer json = exactly(source, reader.read(8, (int) n), (int) n, "header");
        if (json.get(json.position()) != '{') {
            throw new SafetensorsFormatException(source, null, "header does not start with '{': not a safetensors file");
        }
        return parse(source, json, 8 + n, fileSize - 8 - n);
    }

    private static ByteBuffer exactly(String source, ByteBuffer b, int n, String what) throws SafetensorsFormatException {
        if (b.remaining() != n) {
            throw new SafetensorsFormatException(source, null, "file ends inside the " + what);
        }
        return b;
    }

    /** Parses and validates the JSON header of a file whose data section is {@code dataSize} bytes at {@code dataStart}. */
    static SafetensorsHeader parse(String source, ByteBuffer json, long dataStart, long dataSize) throws SafetensorsFormatException {
        Object root;
        try {
            root = Json.parseUtf8(json, MAX_JSON_DEPTH);
        } catch (JsonFormatException e) {
            throw new SafetensorsFormatException(source, null, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> members)) {
            throw new SafetensorsFormatException(source, null, "header is a JSON " + Json.typeName(root) + ", expected an object");
        }
        Map<String, String> metadata = Map.of();
        List<TensorInfo> infos = new ArrayList<>(members.size());
        for (Map.Entry<?, ?> e : members.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                metadata = metadata(source, e.getValue());
            } else {
                infos.add(info(source, name, e.getValue(), dataSize));
            }
        }
        checkLayout(source, infos, dataSize);
        return new SafetensorsHeader(metadata, Collections.unmodifiableList(infos), dataStart, dataSize);
    }

    private static Map<String, String> metadata(String source, Object value) throws SafetensorsFormatException {
        if (!(value instanceof Map<?, ?> m)) {
            throw new SafetensorsFormatException(source, null, "__metadata__ is a JSON " + Json.typeName(value) + ", expected an object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafetensorsFormatException(source, null, "__metadata__ value of '" + e.getKey() + "' is a JSON "
                    + Json.typeName(e.getValue()) + ", expected a string");
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo info(String source, String name, Object value, long dataSize) throws SafetensorsFormatException {
        if (!(value instanceof Map<?, ?> m)) {
            throw new SafetensorsFormatException(source, name, "entry is a JSON " + Json.typeName(value)
                + ", expected an object with dtype, shape and data_offsets");
        }
        for (Object k : m.keySet()) {
            if (!INFO_KEYS.contains(k)) {
                throw new SafetensorsFormatException(source, name, "unexpected field '" + k + "' (expected dtype, shape, data_offsets)");
            }
        }
        if (!(m.get("dtype") instanceof String dtypeName)) {
            throw new SafetensorsFormatException(source, name, "dtype is " + describe(m, "dtype") + ", expected a string");
        }
        DType dtype;
        try {
            dtype = DType.fromSafetensorsName(dtypeName);
        } catch (IllegalArgumentException e) {
            throw new SafetensorsFormatException(source, name, e.getMessage());
        }
        long[] dims = longs(source, name, m, "shape", -1);
        if (dims.length > MAX_RANK) {
            throw new SafetensorsFormatException(source, name, "shape has rank " + dims.length + ", over the limit of " + MAX_RANK);
        }
        long[] span = longs(source, name, m, "data_offsets", 2);
        Shape shape = Shape.of(dims);
        long bytes;
        try {
            bytes = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(source, name, "shape " + shape + " is too large to address");
        }
        if (span[0] > span[1]) {
            throw new SafetensorsFormatException(source, name, "data_offsets [" + span[0] + ", " + span[1] + "] end before they begin");
        }
        if (span[1] - span[0] != bytes) {
            throw new SafetensorsFormatException(source, name, "shape " + shape + " of " + dtypeName + " needs " + bytes
                + " bytes, but data_offsets [" + span[0] + ", " + span[1] + "] span " + (span[1] - span[0]));
        }
        if (span[1] > dataSize) {
            throw new SafetensorsFormatException(source, name, "data_offsets [" + span[0] + ", " + span[1]
                + "] run past the end of the data section (" + dataSize + " bytes): truncated file?");
        }
        return new TensorInfo(name, dtype, shape, span[0], span[1]);
    }

    /** A JSON array of non-negative integers under {@code key}, of length {@code length} (or any if negative). */
    private static long[] longs(String source, String name, Map<?, ?> m, String key, int length) throws SafetensorsFormatException {
        if (!(m.get(key) instanceof List<?> list) || (length >= 0 && list.size() != length)) {
            throw new SafetensorsFormatException(source, name, key + " is " + describe(m, key) + ", expected an array of "
                + (length >= 0 ? length + " " : "") + "non-negative integers");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v) || v < 0) {
                throw new SafetensorsFormatException(source, name, key + "[" + i + "] is " + Json.typeName(list.get(i))
                    + ", expected a non-negative integer");
            }
            out[i] = v;
        }
        return out;
    }

    private static String describe(Map<?, ?> m, String key) {
        return m.containsKey(key) ? "a JSON " + Json.typeName(m.get(key)) : "missing";
    }

    /** Sorts {@code infos} into data order and checks that they tile the data section exactly. */
    private static void checkLayout(String source, List<TensorInfo> infos, long dataSize) throws SafetensorsFormatException {
        // stable: empty tensors sharing an offset keep their header order
        infos.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long covered = 0;
        TensorInfo previous = null;
        for (TensorInfo t : infos) {
            if (t.begin() < covered) {
                throw new SafetensorsFormatException(source, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                    + "] overlap those of '" + previous.name() + "' [" + previous.begin() + ", " + previous.end() + "]");
            }
            if (t.begin() > covered) {
                throw new SafetensorsFormatException(source, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                    + "] leave a gap: bytes [" + covered + ", " + t.begin() + ") of the data section belong to no tensor");
            }
            covered = t.end();
            previous = t;
        }
        if (covered != dataSize) {
            throw new SafetensorsFormatException(source, null, "the data section has " + dataSize + " bytes but the tensors cover "
                + covered + ": " + (dataSize - covered) + " trailing bytes belong to no tensor");
        }
    }
}
