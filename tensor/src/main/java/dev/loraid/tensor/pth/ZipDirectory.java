package dev.loraid.tensor.pth;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The records of a zip archive as {@code torch.save} writes it, read from the central directory of a mapped file.
 *
 * <p>Why not {@link java.util.zip.ZipFile}: it only hands out streams, so every tensor would be copied through the
 * heap, and it does not say where a stored record's bytes lie in the file. Tensors here are views of the mapping,
 * which needs exactly that offset: the central directory gives the local header's position, the local header's
 * name and extra-field lengths give the data's (torch pads the extra field so that data is 64-byte aligned). Only
 * stored (uncompressed, unencrypted) records are accepted, as torch writes no other kind. ZIP64 is read (torch
 * writes it for files over 4 GiB, such as the 11 GB UMT5-XXL checkpoint). Every offset and length is checked
 * against the file before use.
 */
final class ZipDirectory {
    private static final ValueLayout.OfShort LE_U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;
    private static final long U32 = 0xFFFFFFFFL;

    /** One stored record: its bytes are {@code file[offset, offset + size)}; crc is the central directory's. */
    record Record(String name, long offset, long size, int crc) {
    }

    private ZipDirectory() {
    }

    /** Whether {@code file} starts like a zip archive (a local file header). */
    static boolean isZip(MemorySegment file) {
        return file.byteSize() >= 4 && file.get(LE_U32, 0) == LOCAL;
    }

    /** Every record, in central-directory order, by name. */
    static Map<String, Record> read(MemorySegment file, String source) throws PthFormatException {
        long size = file.byteSize();
        long eocd = findEndRecord(file, source);
        long entries = u16(file, eocd + 10);
        long cdSize = u32(file, eocd + 12);
        long cdOffset = u32(file, eocd + 16);
        if (u16(file, eocd + 4) != 0 || u16(file, eocd + 6) != 0) {
            throw new PthFormatException(source, "zip archive spans several disks");
        }
        if (entries == 0xFFFF || cdSize == U32 || cdOffset == U32) {
            long locator = eocd - 20;
            if (locator < 0 || file.get(LE_U32, locator) != ZIP64_LOCATOR) {
                throw new PthFormatException(source, "zip end record asks for ZIP64 but has no ZIP64 locator before it");
            }
            long z = file.get(LE_U64, locator + 8);
            if (z < 0 || z > locator - 56 || file.get(LE_U32, z) != ZIP64_EOCD) {
                throw new PthFormatException(source, "ZIP64 end record offset " + z + " does not point at a ZIP64 end record");
            }
            entries = file.get(LE_U64, z + 32);
            cdSize = file.get(LE_U64, z + 40);
            cdOffset = file.get(LE_U64, z + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > size || cdSize > size - cdOffset) {
            throw new PthFormatException(source, "zip central directory [" + cdOffset + ", +" + cdSize + ") lies outside the "
                + size + "-byte file");
        }
        if (entries < 0 || entries > cdSize / 46) {
            throw new PthFormatException(source, "zip central directory claims " + entries + " records in " + cdSize + " bytes");
        }
        Map<String, Record> records = new LinkedHashMap<>();
        long p = cdOffset;
        long cdEnd = cdOffset + cdSize;
        for (long i = 0; i < entries; i++) {
            if (cdEnd - p < 46 || file.get(LE_U32, p) != CENTRAL) {
                throw new PthFormatException(source, "zip central directory entry " + i + " at byte " + p + " is malformed");
            }
            int flags = u16(file, p + 8);
            int method = u16(file, p + 10);
            int crc = file.get(LE_U32, p + 16);
            long compressed = u32(file, p + 20);
            long uncompressed = u32(file, p + 24);
            int nameLen = u16(file, p + 28);
            int extraLen = u16(file, p + 30);
            int commentLen = u16(file, p + 32);
            long local = u32(file, p + 42);
            if (46L + nameLen + extraLen + commentLen > cdEnd - p) {
                throw new PthFormatException(source, "zip central directory entry " + i + " runs past the directory");
            }
            String name = new String(file.asSlice(p + 46, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            // ZIP64 extended information: 8-byte values for exactly the fields that read 0xFFFFFFFF, in this order
            long[] wide = {uncompressed, compressed, local};
            long e = p + 46 + nameLen;
            long extraEnd = e + extraLen;
            while (extraEnd - e >= 4) {
                int id = u16(file, e);
                int len = u16(file, e + 2);
                if (len > extraEnd - e - 4) {
                    throw new PthFormatException(source, "zip record '" + name + "': extra field runs past its entry");
                }
                if (id == 0x0001) {
                    long q = e + 4;
                    for (int k = 0; k < wide.length; k++) {
                        if (wide[k] == U32) {
                            if (q + 8 > e + 4 + len) {
                                throw new PthFormatException(source, "zip record '" + name + "': ZIP64 extra field too short");
                            }
                            wide[k] = file.get(LE_U64, q);
                            q += 8;
                        }
                    }
                }
                e += 4 + len;
            }
            uncompressed = wide[0];
            compressed = wide[1];
            local = wide[2];
            if ((flags & 1) != 0) {
                throw new PthFormatException(source, "zip record '" + name + "' is encrypted");
            }
            if (method != 0 || compressed != uncompressed) {
                throw new PthFormatException(source, "zip record '" + name + "' is compressed (method " + method
                    + "); torch.save stores records uncompressed");
            }
            long data = dataStart(file, source, name, local, cdOffset);
            if (uncompressed < 0 || uncompressed > cdOffset - data) {
                throw new PthFormatException(source, "zip record '" + name + "' of " + uncompressed + " bytes at byte " + data
                    + " runs past the record area (which ends at " + cdOffset + ")");
            }
            if (records.put(name, new Record(name, data, uncompressed, crc)) != null) {
                throw new PthFormatException(source, "zip record '" + name + "' appears twice");
            }
            p += 46L + nameLen + extraLen + commentLen;
        }
        return records;
    }

    /** Checks a small record's CRC-32 (the pickle; tensor data is not hashed, which would read every byte on open). */
    static void checkCrc(MemorySegment file, Record r, String source) throws PthFormatException {
        CRC32 crc = new CRC32();
        crc.update(file.asSlice(r.offset(), r.size()).asByteBuffer());
        if ((int) crc.getValue() != r.crc()) {
            throw new PthFormatException(source, "zip record '" + r.name() + "' fails its CRC-32 check (corrupt file)");
        }
    }

    private static long findEndRecord(MemorySegment file, String source) throws PthFormatException {
        long size = file.byteSize();
        // the end record is 22 bytes plus a comment of up to 65535 bytes, and the comment must reach the file's end
        for (long p = size - 22; p >= 0 && p >= size - 22 - 0xFFFF; p--) {
            if (file.get(LE_U32, p) == EOCD && p + 22 + u16(file, p + 20) == size) {
                return p;
            }
        }
        throw new PthFormatException(source, "no zip end-of-central-directory record (truncated or not a zip file)");
    }

    private static long dataStart(MemorySegment file, String source, String name, long local, long cdOffset) throws PthFormatException {
        if (local < 0 || local > cdOffset - 30 || file.get(LE_U32, local) != LOCAL) {
            throw new PthFormatException(source, "zip record '" + name + "': no local header at byte " + local);
        }
        int nameLen = u16(file, local + 26);
        int extraLen = u16(file, local + 28);
        long data = local + 30 + nameLen + extraLen;
        if (data > cdOffset) {
            throw new PthFormatException(source, "zip record '" + name + "': local header runs into the central directory");
        }
        byte[] localName = file.asSlice(local + 30, nameLen).toArray(ValueLayout.JAVA_BYTE);
        if (!new String(localName, StandardCharsets.UTF_8).equals(name)) {
            throw new PthFormatException(source, "zip record '" + name + "': local header names a different record");
        }
        return data;
    }

    private static int u16(MemorySegment f, long at) {
        return f.get(LE_U16, at) & 0xFFFF;
    }

    private static long u32(MemorySegment f, long at) {
        return f.get(LE_U32, at) & U32;
    }
}
