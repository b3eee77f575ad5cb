package dev.loraid.tensor.pth;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * The zip layout of {@code torch.save} (torch ≥ 1.6): records {@code <prefix>/data.pkl} (the pickle),
 * {@code <prefix>/data/<key>} (raw little-endian storage bytes) and {@code <prefix>/version}, where the prefix is
 * any single top-level folder (the file's stem, or {@code archive} when torch saved to a buffer). Newer torch adds
 * {@code byteorder} (checked: must be {@code little}) and {@code .data/...} records (ignored).
 */
final class ZipCheckpoint {
    /** A data.pkl larger than this is refused: a state dict's pickle is kilobytes per thousand tensors. */
    static final long MAX_PICKLE_BYTES = 1L << 30;

    private ZipCheckpoint() {
    }

    static StateDict read(MemorySegment file, String source) throws PthFormatException {
        Map<String, ZipDirectory.Record> records = ZipDirectory.read(file, source);
        String prefix = null;
        for (String name : records.keySet()) {
            int slash = name.indexOf('/');
            if (slash <= 0) {
                throw new PthFormatException(source, "zip record '" + name + "' is not inside a top-level folder");
            }
            String p = name.substring(0, slash + 1);
            if (prefix != null && !prefix.equals(p)) {
                throw new PthFormatException(source, "zip records lie in two top-level folders, '" + prefix + "' and '" + p
                    + "' (torch.save writes one)");
            }
            prefix = p;
        }
        ZipDirectory.Record pkl = prefix == null ? null : records.get(prefix + "data.pkl");
        if (pkl == null) {
            throw new PthFormatException(source, "zip archive has no <folder>/data.pkl record: not a torch.save file");
        }
        ZipDirectory.Record byteorder = records.get(prefix + "byteorder");
        if (byteorder != null) {
            String order = byteorder.size() > 16 ? "?" : new String(
                file.asSlice(byteorder.offset(), byteorder.size()).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
            if (!order.equals("little")) {
                throw new PthFormatException(source, "byteorder record says '" + order + "'; only little-endian files are read");
            }
        }
        if (pkl.size() > MAX_PICKLE_BYTES) {
            throw new PthFormatException(source, "data.pkl is " + pkl.size() + " bytes (at most " + MAX_PICKLE_BYTES + ")");
        }
        ZipDirectory.checkCrc(file, pkl, source);
        String dataPrefix = prefix + "data/";
        Map<String, StorageRef> seen = new HashMap<>();
        Map<String, MemorySegment> storages = new HashMap<>();
        String where = source + ": " + pkl.name();
        Unpickler.Result r = Unpickler.load(file, pkl.offset(), pkl.offset() + pkl.size(), where, (pid, at) -> {
            StorageRef s = StorageRef.parse(pid, false, at);
            StorageRef before = seen.putIfAbsent(s.key(), s);
            if (before != null) {
                before.checkSame(s, at);
                return before;
            }
            ZipDirectory.Record rec = records.get(dataPrefix + s.key());
            if (rec == null) {
                throw new PthFormatException(at, "storage '" + s.key() + "' has no record " + dataPrefix + s.key());
            }
            s.checkSize(rec.size(), "record " + rec.name(), at);
            storages.put(s.key(), file.asSlice(rec.offset(), rec.size()));
            return s;
        });
        if (r.end() != pkl.offset() + pkl.size()) {
            throw new PthFormatException(where, (pkl.offset() + pkl.size() - r.end()) + " bytes after the pickle's STOP");
        }
        return StateDict.of(r.value(), storages, source);
    }
}
