package dev.loraid.tensor.pth;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.pth.PyValue.Tuple;

/**
 * A storage as the pickle names it: the persistent id {@code ('storage', torch.<Type>Storage, key, location, numel)}
 * (the legacy format adds a sixth item, {@code view_metadata}, which must be None). Its bytes are the record
 * {@code data/<key>} (zip) or the key's section after the pickles (legacy); the readers check that they hold exactly
 * {@code numel × dtype.byteSize()} bytes before any tensor is made over them. The location ({@code 'cpu'},
 * {@code 'cuda:0'}) is ignored: everything loads on the CPU.
 */
record StorageRef(String key, DType dtype, long numel) {

    static StorageRef parse(Tuple pid, boolean legacy, String where) throws PthFormatException {
        int n = legacy ? 6 : 5;
        if (pid.size() != n || !"storage".equals(pid.get(0))) {
            throw new PthFormatException(where, "persistent id is not ('storage', type, key, location, numel"
                + (legacy ? ", view_metadata" : "") + "): a " + pid);
        }
        if (!(pid.get(1) instanceof TorchGlobal g) || g.storageType() == null) {
            throw new PthFormatException(where, "persistent id names a " + PyValue.typeName(pid.get(1)) + ", not a torch storage type");
        }
        if (!(pid.get(2) instanceof String key) || !(pid.get(3) instanceof String)) {
            throw new PthFormatException(where, "persistent id key and location must be strings");
        }
        if (!(pid.get(4) instanceof Long numel) || numel < 0) {
            throw new PthFormatException(where, "storage '" + key + "': numel is a " + PyValue.typeName(pid.get(4))
                + (pid.get(4) instanceof Long ? " below 0" : "") + ", expected an int in [0, 2^63)");
        }
        if (legacy && pid.get(5) != PyValue.NONE) {
            throw new PthFormatException(where, "storage '" + key + "' is a view of another storage (legacy view_metadata), which is not supported");
        }
        return new StorageRef(key, g.storageType(), numel);
    }

    /** Throws unless {@code bytes} is exactly this storage's size; never multiplies numel out of range. */
    void checkSize(long bytes, String record, String where) throws PthFormatException {
        int e = dtype.byteSize();
        if (numel > Long.MAX_VALUE / e || numel * e != bytes) {
            throw new PthFormatException(where, "storage '" + key + "' declares " + numel + " " + dtype + " elements ("
                + (numel > Long.MAX_VALUE / e ? "over 2^63" : String.valueOf(numel * e)) + " bytes) but " + record
                + " holds " + bytes + " bytes: the storage size does not match numel × element size");
        }
    }

    /** The same storage met again: it must say the same thing. */
    void checkSame(StorageRef other, String where) throws PthFormatException {
        if (!equals(other)) {
            throw new PthFormatException(where, "storage '" + key + "' is named as " + numel + " " + dtype + " elements and as "
                + other.numel + " " + other.dtype + " elements");
        }
    }
}
