package dev.loraid.wan.text;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The few protobuf wire-format rules {@link SpmModelProto} needs (no protobuf dependency): a cursor over one
 * message's bytes yielding (field number, wire type) tags, varints, fixed32 and length-delimited payloads.
 * Groups (wire types 3 and 4) are rejected: SentencePiece's model proto has none.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LEN = 2;
    static final int FIXED32 = 5;

    private final byte[] buf;
    private int pos;
    private final int end;

    ProtoReader(byte[] buf, int from, int to) {
        this.buf = buf;
        this.pos = from;
        this.end = to;
    }

    boolean hasMore() {
        return pos < end;
    }

    int position() {
        return pos;
    }

    /** The next tag: field number {@code << 3 | wire type}. */
    int tag() {
        long t = varint();
        if (t >>> 3 == 0 || t > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bad protobuf tag " + t + " at byte " + pos);
        }
        return (int) t;
    }

    long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw new IllegalArgumentException("truncated protobuf varint at byte " + pos);
            }
            int b = buf[pos++] & 0xFF;
            v |= (long) (b & 0x7F) << shift;
            if (b < 0x80) {
                return v;
            }
        }
        throw new IllegalArgumentException("protobuf varint longer than 10 bytes at byte " + pos);
    }

    int fixed32() {
        need(4);
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    /** A length-delimited payload as a reader over just those bytes (the cursor moves past it). */
    ProtoReader message() {
        int n = length();
        ProtoReader r = new ProtoReader(buf, pos, pos + n);
        pos += n;
        return r;
    }

    byte[] bytes() {
        int n = length();
        byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
        pos += n;
        return b;
    }

    String string() {
        int n = length();
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    /** Skips the value of a field of {@code wireType} (fields this reader does not need). */
    void skip(int wireType) {
        switch (wireType) {
            case VARINT -> varint();
            case FIXED64 -> {
                need(8);
                pos += 8;
            }
            case LEN -> {
                int n = length(); // not pos += length(): Java would add to the pos read before the length
                pos += n;
            }
            case FIXED32 -> {
                need(4);
                pos += 4;
            }
            default -> throw new IllegalArgumentException("unsupported protobuf wire type " + wireType + " at byte " + pos);
        }
    }

    private int length() {
        long n = varint();
        if (n < 0 || n > end - pos) {
            throw new IllegalArgumentException("protobuf length " + n + " at byte " + pos + " runs past the end (" + (end - pos) + " bytes left)");
        }
        return (int) n;
    }

    private void need(int n) {
        if (end - pos < n) {
            throw new IllegalArgumentException("truncated protobuf field at byte " + pos);
        }
    }
}
