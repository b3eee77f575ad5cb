package dev.loraid.wan;

import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.quant.Fp8Scales;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WanCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void theTinyGoldenModelIsRecognisedFromShapesAndMetadata() throws IOException {
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"))) {
            assertEquals(WanPresets.TINY, ck.config());
            assertEquals(123, ck.weights().tensors().size());
            Tensor q = ck.weights().get("blocks.0.self_attn.q.weight");
            assertTrue(q.storage().owner() instanceof SafetensorsFile, "weights are views of the mapped file");
            assertEquals(DType.F32, ck.dtypeMix().keySet().iterator().next());
        }
    }

    /** ComfyUI prefix, sharded into two files without metadata: same weights, config from shapes + file name. */
    @Test
    void prefixedShardsLoadAsOneCheckpoint() throws IOException {
        Map<String, Tensor> a = new LinkedHashMap<>();
        Map<String, Tensor> b = new LinkedHashMap<>();
        try (SafetensorsFile f = Golden.open("wan_tiny_weights.safetensors")) {
            for (String n : f.names()) {
                (n.startsWith("blocks.") ? b : a).put(WanKeys.COMFY_PREFIX + n, f.tensor(n));
            }
            SafetensorsWriter.write(dir.resolve("tiny-00001-of-00002.safetensors"), a, Map.of());
            SafetensorsWriter.write(dir.resolve("tiny-00002-of-00002.safetensors"), b,
                    Map.of("config", f.metadata().get("config")));
        }
        try (WanCheckpoint ck = WanCheckpoint.open(dir.resolve("tiny-00001-of-00002.safetensors"))) {
            assertEquals(WanPresets.TINY, ck.config());
            assertTrue(ck.weights().contains("patch_embedding.weight"));
        }
    }

    @Test
    void aPresetThatDoesNotFitIsRejectedNamingKeysAndShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"), WanPresets.TINY_I2V));
        assertTrue(e.getMessage().contains("patch_embedding.weight: expected [64, 12, 1, 2, 2], got [64, 4, 1, 2, 2]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("missing blocks.0.cross_attn.k_img.weight"), e.getMessage());
    }

    @Test
    void aLoraGivenAsModelSaysSo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WanCheckpoint.open(Golden.path("lora_tiny.safetensors")));
        assertTrue(e.getMessage().contains("LoRA file"), e.getMessage());
    }

    @Test
    void anIntegerWeightIsRejectedByName() throws IOException {
        Path p = dir.resolve("bad.safetensors");
        try (SafetensorsFile f = Golden.open("wan_tiny_weights.safetensors")) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            for (String n : f.names()) {
                m.put(n, n.equals("head.modulation") ? f.tensor(n).to(DType.I32) : f.tensor(n));
            }
            SafetensorsWriter.write(p, m, f.metadata());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WanCheckpoint.open(p));
        assertTrue(e.getMessage().contains("head.modulation has dtype I32"), e.getMessage());
    }

    @Test
    void anA14bReleaseFolderAsksForOneExpert() throws IOException {
        Files.createDirectories(dir.resolve("high_noise_model"));
        IOException e = assertThrows(IOException.class, () -> WanCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("A14B experts"), e.getMessage());
    }

    @Test
    void prefixStrippingIsTheOneSourceOfKeyNames() {
        assertEquals("blocks.0.ffn.0.weight", WanKeys.stripPrefix("model.diffusion_model.blocks.0.ffn.0.weight"));
        assertEquals("head.head.bias", WanKeys.stripPrefix("diffusion_model.head.head.bias"));
        assertSame("blocks.1.norm3.weight", WanKeys.stripPrefix("blocks.1.norm3.weight"));
        assertTrue(Fp8Scales.isTarget("blocks.3.ffn.0.weight"));
        assertTrue(!Fp8Scales.isTarget("blocks.3.self_attn.norm_q.weight"));
        assertTrue(!Fp8Scales.isTarget("blocks.3.modulation"));
    }

    /** A model used after its checkpoint was closed says which file, instead of "Already closed" inside a GEMM. */
    @Test
    void aModelUsedAfterItsCheckpointClosedNamesTheFile() throws IOException {
        WanModel model;
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"));
             SafetensorsFile golden = Golden.open("wan_tiny_forward.safetensors")) {
            model = ck.model();
            WanInputs in = WanInputs.of(golden.tensor("x").copy(), golden.tensor("t").copy(), golden.tensor("context").copy());
            assertEquals(4, model.forward(in).rank()); // [out_dim, F, H, W] while the file is open
            ck.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.forward(in));
            assertTrue(e.getMessage().contains("wan_tiny_weights.safetensors is closed"), e.getMessage());
        }
    }
}
