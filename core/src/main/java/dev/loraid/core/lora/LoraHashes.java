package dev.loraid.core.lora;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * The two content hashes every written LoRA carries (spec loraid.md REQ-META-4, training.md §5.4), computed over
 * the serialization of the tensors (in file order, as written) with the metadata reduced to its {@code ss_} keys:
 * {@code sshs_model_hash} = SHA-256 of the data section, {@code sshs_legacy_hash} = first 8 hex chars of SHA-256
 * of bytes [0x100000, 0x110000) of the whole serialization.
 */
public final class LoraHashes {
    public static final String MODEL_HASH = "sshs_model_hash";
    public static final String LEGACY_HASH = "sshs_legacy_hash";
    private static final long LEGACY_START = 0x100000;
    private static final long LEGACY_END = 0x110000;

    private LoraHashes() {
    }

    /** {@code metadata} with both hash keys set (replaced if present) for these tensors. */
    public static Map<String, String> withHashes(SortedMap<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, String> ssOnly = new LinkedHashMap<>();
        metadata.forEach((k, v) -> {
            if (k.startsWith("ss_")) {
                ssOnly.put(k, v);
            }
        });
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        tensors.forEach((n, t) -> entries.add(new SafetensorsWriter.Entry(n, t.dtype(), t.shape())));
        byte[] header = SafetensorsWriter.header(Path.of("hash"), entries, ssOnly);
        MessageDigest model = sha256();
        MessageDigest legacy = sha256();
        byte[] prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array();
        long pos = 0;
        pos = feedLegacy(legacy, ByteBuffer.wrap(prefix), pos);
        pos = feedLegacy(legacy, ByteBuffer.wrap(header), pos);
        for (Tensor t : tensors.values()) {
            Tensor c = t.contiguous();
            MemorySegment bytes = c.storage().segment().asSlice(c.offset() * c.dtype().byteSize(), c.numel() * c.dtype().byteSize());
            model.update(bytes.asByteBuffer());
            pos = feedLegacy(legacy, bytes.asByteBuffer(), pos);
        }
        Map<String, String> out = new LinkedHashMap<>(metadata);
        out.put(MODEL_HASH, HexFormat.of().formatHex(model.digest()));
        out.put(LEGACY_HASH, HexFormat.of().formatHex(legacy.digest()).substring(0, 8));
        return out;
    }

    /** Feeds the part of {@code chunk} (which starts at {@code pos} of the serialization) inside the legacy window. */
    private static long feedLegacy(MessageDigest legacy, ByteBuffer chunk, long pos) {
        long end = pos + chunk.remaining();
        long from = Math.max(pos, LEGACY_START);
        long to = Math.min(end, LEGACY_END);
        if (from < to) {
            ByteBuffer part = chunk.duplicate();
            part.position((int) (from - pos)).limit((int) (to - pos));
            legacy.update(part);
        }
        return end;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
