package dev.loraid.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.loraid.core.LoraFixtures;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec loraid.md REQ-META-4, test case T-23, against hashes of the bytes of an actually written ss_-only file. */
class LoraHashesTest {
    @TempDir
    Path dir;

    private static String sha(byte[] b, int from, int to) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Arrays.copyOfRange(b, from, to)));
    }

    private void check(TreeMap<String, Tensor> tensors) throws Exception {
        Map<String, String> meta = new LinkedHashMap<>(Map.of("ss_network_dim", "4", "modelspec.title", "x", "ss_output_name", "t"));
        Map<String, String> hashed = LoraHashes.withHashes(tensors, meta);
        Map<String, String> ssOnly = new LinkedHashMap<>(meta);
        ssOnly.keySet().removeIf(k -> !k.startsWith("ss_"));
        Path f = dir.resolve("ss.safetensors");
        SafetensorsWriter.write(f, tensors, ssOnly);
        byte[] bytes = Files.readAllBytes(f);
        int headerEnd = (int) (8 + ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
        assertEquals(sha(bytes, headerEnd, bytes.length), hashed.get(LoraHashes.MODEL_HASH));
        String legacy = sha(bytes, Math.min(0x100000, bytes.length), Math.min(0x110000, bytes.length)).substring(0, 8);
        assertEquals(legacy, hashed.get(LoraHashes.LEGACY_HASH));
        assertEquals(8, hashed.get(LoraHashes.LEGACY_HASH).length());
        // a non-ss_ key does not change the model hash
        meta.put("modelspec.title", "other");
        assertEquals(hashed.get(LoraHashes.MODEL_HASH), LoraHashes.withHashes(tensors, meta).get(LoraHashes.MODEL_HASH));
        assertEquals(hashed.get(LoraHashes.LEGACY_HASH), LoraHashes.withHashes(tensors, meta).get(LoraHashes.LEGACY_HASH));
    }

    @Test
    void t23_hash_values() throws Exception {
        TreeMap<String, Tensor> small = new TreeMap<>(LoraFixtures.randomLora("h", 1, 0, 0, 2, 1, Map.of()).tensors());
        check(small);
        assertEquals("e3b0c442", LoraHashes.withHashes(small, Map.of()).get(LoraHashes.LEGACY_HASH)); // under 1 MiB
        TreeMap<String, Tensor> big = new TreeMap<>(LoraFixtures.randomLora("h", 2, 0, 0, 64, 1, Map.of()).tensors());
        big.put("lora_unet_blocks_1_ffn_0.lora_down.weight", LoraFixtures.constant(0.5f, 300, 1000));
        check(big);
        assertNotEquals("e3b0c442", LoraHashes.withHashes(big, Map.of()).get(LoraHashes.LEGACY_HASH));
    }
}
