package dev.loraid.cli;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.json.Json;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectCommandTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");

    /** Cache files (upstream's I2V fixture): the latent's frames and size, its conditioning, CLIP tokens; the T5 rows. */
    @Test
    void describesCacheFiles() {
        Path latents = Path.of(System.getProperty("loraid.testdata")).getParent()
                .resolve("core/src/test/resources/musubi_cache/cache_i2v/clip2_00000-005_0048x0032_wan.safetensors");
        CliRun r = run("inspect", latents.toString(), latents.resolveSibling("clip2_wan_te.safetensors").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Latent cache: latent [4, 2, 4, 6] BF16 (2 latent frames = 5 video frames at 48x32 px"),
                r.out());
        assertTrue(r.out().contains("I2V conditioning (mask + image latents) [8, 2, 4, 6]"), r.out());
        assertTrue(r.out().contains("CLIP tokens [5, 16] F16"), r.out());
        assertTrue(r.out().contains("Text-encoder cache: varlen_t5_bfloat16"), r.out());
    }

    /** A LyCORIS file: its modules counted by algorithm (from the tensor names), the blocks they touch, how to use it. */
    @Test
    void describesLycorisFiles(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        java.util.Map<String, dev.loraid.tensor.Tensor> t = new java.util.TreeMap<>();
        t.put("lora_unet_blocks_0_self_attn_q.lokr_w1", dev.loraid.tensor.Tensor.zeros(dev.loraid.tensor.DType.F32, 8, 8));
        t.put("lora_unet_blocks_0_self_attn_q.lokr_w2", dev.loraid.tensor.Tensor.zeros(dev.loraid.tensor.DType.F32, 8, 8));
        t.put("lora_unet_blocks_3_ffn_0.hada_w1_a", dev.loraid.tensor.Tensor.zeros(dev.loraid.tensor.DType.F32, 128, 2));
        t.put("lora_unet_blocks_2_ffn_2.lora_up.weight", dev.loraid.tensor.Tensor.zeros(dev.loraid.tensor.DType.F32, 64, 2));
        Path file = dir.resolve("lokr.safetensors");
        dev.loraid.tensor.safetensors.SafetensorsWriter.write(file, t, java.util.Map.of());
        CliRun r = run("inspect", file.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("LyCORIS: 3 modules (1 loha, 1 lokr, 1 lora), blocks 0..3"), r.out());
        assertTrue(r.out().contains("merged into the DiT at load by generate --lora_weight FILE"), r.out());
    }

    @Test
    void printsEveryTensorTheMetadataAndTheLoraLayout() throws IOException {
        Path lora = GOLDEN.resolve("lora_tiny.safetensors");
        CliRun r = run("inspect", lora.toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(lora)) {
            for (String n : f.names()) {
                String line = Arrays.stream(r.out().split("\n")).filter(l -> l.trim().startsWith(n + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no line for " + n + " in\n" + r.out()));
                assertTrue(line.contains(f.info(n).dtype().safetensorsName() + " ") && line.endsWith(f.info(n).shape().toString()), line);
            }
            f.metadata().forEach((k, v) -> assertTrue(r.out().contains("  " + k + ": "), k));
        }
        assertTrue(r.out().contains("LoRA: 40 modules, musubi/kohya"), r.out());
        assertTrue(r.out().contains("rank 4, alpha 2 (scale alpha/rank = 0.5)"), r.out());
        assertTrue(r.out().contains("  blocks 0-3: self_attn.q k v o, cross_attn.q k v o, ffn.0 ffn.2\n"), r.out());
    }

    @Test
    void severalFilesAndJson() {
        CliRun r = run("inspect", "--json", GOLDEN.resolve("lora_id1.safetensors").toString(), GOLDEN.resolve("lora_id2.safetensors").toString());
        assertEquals(0, r.code(), r.err());
        List<?> files = (List<?>) Json.parse(r.out());
        assertEquals(2, files.size());
        Map<?, ?> second = (Map<?, ?>) files.get(1);
        assertEquals(60, ((List<?>) second.get("tensors")).size());
        assertEquals("2", ((Map<?, ?>) second.get("metadata")).get("ss_network_dim"));
        Map<?, ?> lora = (Map<?, ?>) second.get("lora");
        assertEquals(List.of(2L), lora.get("ranks"));
        assertEquals(List.of(4.0), lora.get("alphas"));
        assertEquals(List.of(2L, 3L), lora.get("blocks"));
        Map<?, ?> firstTensor = (Map<?, ?>) ((List<?>) second.get("tensors")).getFirst();
        assertEquals(Map.of("name", "lora_unet_blocks_2_cross_attn_k.alpha", "dtype", "F32", "shape", List.of()), firstTensor);

        CliRun text = run("inspect", GOLDEN.resolve("lora_id1.safetensors").toString(), GOLDEN.resolve("wan_tiny_weights.safetensors").toString());
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("  blocks 0-1: self_attn.q k v o"), text.out());
        assertTrue(text.out().contains("wan_tiny_weights.safetensors: "), text.out());
        assertTrue(text.out().contains("blocks.3.ffn.2.weight"), text.out());
    }

    @Test
    void diffusersKeysMixedRanksAndBrokenPairs(@TempDir Path tmp) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int b : new int[] {5, 6, 9}) {
            for (String m : new String[] {"cross_attn.k", "self_attn.q", "ffn.2"}) {
                int rank = b == 9 ? 8 : 4;
                t.put("diffusion_model.blocks." + b + "." + m + ".lora_A.weight", Tensor.zeros(DType.BF16, rank, 16));
                t.put("diffusion_model.blocks." + b + "." + m + ".lora_B.weight", Tensor.zeros(DType.BF16, 16, rank));
            }
        }
        t.put("diffusion_model.blocks.7.ffn.0.lora_A.weight", Tensor.zeros(DType.BF16, 4, 16));
        Path p = tmp.resolve("diffusers.safetensors");
        SafetensorsWriter.write(p, t, null);
        CliRun r = run("inspect", p.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("LoRA: 9 modules, diffusers/PEFT"), r.out());
        assertTrue(r.out().contains("ranks 4 (6 modules), 8 (3 modules), alpha none (a missing alpha means alpha = rank)"), r.out());
        assertTrue(r.out().contains("  blocks 5-6, 9: self_attn.q, cross_attn.k, ffn.2\n"), r.out());
        assertTrue(r.out().contains("warning: diffusion_model.blocks.7.ffn.0: has a down matrix but no up matrix"), r.out());
        assertTrue(r.out().contains("metadata: none"), r.out());
    }

    @Test
    void aMultiGigabyteFileIsReadFromItsHeaderOnly(@TempDir Path tmp) throws IOException {
        // a sparse 4 GiB file: only the header exists on disk, so reading any data would show as zeros, and a
        // full read would take seconds; inspect answers from the header
        String header = "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"BF16\",\"shape\":[65536,32768],\"data_offsets\":[0,4294967296]}}";
        byte[] h = (header + " ".repeat((8 - header.length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        Path p = tmp.resolve("big.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            f.write(h);
            f.setLength(8 + h.length + (1L << 32));
        }
        CliRun r = run("inspect", p.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("1 tensors, 2147483648 parameters, 4.0 GiB"), r.out());
        assertTrue(r.out().contains("BF16    [65536, 32768]"), r.out());
    }

    @Test
    void badInputIsOneMessageNamingTheFileAndExitOne(@TempDir Path tmp) throws IOException {
        CliRun missing = run("inspect", tmp.resolve("nope.safetensors").toString());
        assertEquals(1, missing.code());
        assertEquals("loraid inspect: error: " + tmp.resolve("nope.safetensors") + ": no such file or directory\n", missing.err());

        Path text = tmp.resolve("notes.safetensors");
        Files.writeString(text, "these are just some notes, not tensors");
        CliRun wrongType = run("inspect", text.toString());
        assertEquals(1, wrongType.code());
        assertTrue(wrongType.err().startsWith("loraid inspect: error: " + text + ": header length"), wrongType.err());
        assertEquals(1, wrongType.err().lines().count(), wrongType.err());

        Path truncated = tmp.resolve("truncated.safetensors");
        byte[] full = Files.readAllBytes(GOLDEN.resolve("dtypes.safetensors"));
        Files.write(truncated, Arrays.copyOf(full, full.length - 10));
        CliRun cut = run("inspect", truncated.toString(), GOLDEN.resolve("dtypes.safetensors").toString());
        assertEquals(1, cut.code());
        assertTrue(cut.err().contains(truncated + ": tensor '") && cut.err().contains("truncated file?"), cut.err());
        assertTrue(cut.out().contains("dtypes.safetensors: 8 tensors"), "the good file is still shown: " + cut.out());
    }

    @Test
    void usageErrorsExitTwo() {
        CliRun none = run("inspect");
        assertEquals(2, none.code());
        assertTrue(none.err().contains("no FILE given"), none.err());
        assertEquals(2, run("inspect", "--bogus", "x").code());
        CliRun help = run("inspect", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--json"), help.out());
        assertTrue(run("--help").out().contains("inspect"));
    }

    @Test
    void loraModulePathsAndRanges() {
        assertEquals("blocks.12.cross_attn.k_img", LoraFileSummary.modulePath("lora_unet_blocks_12_cross_attn_k_img"));
        assertEquals("blocks.0.ffn.0", LoraFileSummary.modulePath("transformer.blocks.0.ffn.0"));
        assertEquals("text_embedding_0", LoraFileSummary.modulePath("lora_unet_text_embedding_0"));
        assertEquals("0-3, 6, 8-9", LoraFileSummary.ranges(List.of(0, 1, 2, 3, 6, 8, 9)));
        assertEquals("self_attn.q k, ffn.0 ffn.2, head", LoraFileSummary.describeModules(List.of("self_attn.q", "self_attn.k", "ffn.0", "ffn.2", "head")));
    }
}
