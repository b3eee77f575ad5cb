package dev.loraid.wan;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WanConfigInferenceTest {
    @Test
    void everyReleasedVariantIsRecognisedFromItsShapes() {
        for (WanVariant v : WanPresets.all()) {
            if (v.config().headDim() != WanConfigInference.RELEASED_HEAD_DIM) {
                continue; // tiny configs need their metadata (tested below)
            }
            String name = v.hasExperts() ? "wan2.2_" + v.name() + "_high_noise.safetensors" : v.name() + ".safetensors";
            WanConfig got = WanConfigInference.infer(WanKeys.expectedShapes(v.config()), Map.of(), name);
            assertEquals(v.config(), got, v.name());
            assertTrue(WanPresets.matching(got).contains(v), v.name());
        }
    }

    @Test
    void metadataSuppliesWhatShapesCannotTell() {
        Map<String, Object> meta = Map.of("num_heads", 4, "model_version", "2.2", "text_len", 8, "eps", 1e-6);
        WanConfig got = WanConfigInference.infer(WanKeys.expectedShapes(WanPresets.TINY), meta, "x.safetensors");
        assertEquals(WanPresets.TINY_V22, got);
    }

    /** The config written as metadata (what wan-forward stores) reads back to the same config. */
    @Test
    void configMetadataRoundTrips() {
        for (WanConfig c : new WanConfig[] {WanPresets.TINY_V22, WanPresets.TINY_I2V, WanPresets.get("ti2v-5B").config()}) {
            Map<String, Object> meta = dev.loraid.tensor.json.Json.parseObject(
                    dev.loraid.tensor.json.JsonWriter.compact(c.toMap()));
            assertEquals(c, WanConfigInference.infer(WanKeys.expectedShapes(c), meta, "any.safetensors"));
        }
    }

    @Test
    void aMissingBlockIsNamed() {
        Map<String, long[]> shapes = new LinkedHashMap<>(WanKeys.expectedShapes(WanPresets.get("t2v-1.3B").config()));
        shapes.keySet().removeIf(k -> k.startsWith("blocks.7."));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WanConfigInference.infer(shapes, Map.of(), "m.safetensors"));
        assertTrue(e.getMessage().contains("blocks [7] are missing"), e.getMessage());
    }

    @Test
    void aLoraIsNotTakenForAModel() {
        Map<String, long[]> lora = Map.of("lora_unet_blocks_0_ffn_0.lora_down.weight", new long[] {4, 64});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WanConfigInference.infer(lora, Map.of(), "l.safetensors"));
        assertTrue(e.getMessage().contains("LoRA file"), e.getMessage());
    }

    @Test
    void aPresetThatDoesNotFitTheFileNamesKeyAndShapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>(WanKeys.expectedShapes(WanPresets.get("t2v-1.3B").config()));
        WanConfig chosen = WanPresets.get("t2v-14B").config();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WanKeyCheck.requireMatches(chosen, shapes, "m.safetensors"));
        assertTrue(e.getMessage().contains("patch_embedding.weight: expected [5120, 16, 1, 2, 2], got [1536, 16, 1, 2, 2]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("missing blocks.30.modulation"), e.getMessage());
    }

    @Test
    void fp8ScalesAreAllowedExtrasButOtherKeysAreNot() {
        WanConfig c = WanPresets.TINY;
        Map<String, long[]> shapes = new LinkedHashMap<>(WanKeys.expectedShapes(c));
        shapes.put("blocks.0.ffn.0.scale_weight", new long[] {128, 1, 1});
        shapes.put("blocks.0.self_attn.q.scale_weight", new long[] {64, 1});
        assertTrue(WanKeyCheck.problems(c, shapes).isEmpty(), WanKeyCheck.problems(c, shapes).toString());
        shapes.put("blocks.0.norm3.scale_weight", new long[] {1});
        shapes.put("blocks.0.ffn.2.scale_weight", new long[] {64, 3, 1});
        String p = String.join("; ", WanKeyCheck.problems(c, shapes));
        assertTrue(p.contains("unexpected blocks.0.norm3.scale_weight"), p);
        assertTrue(p.contains("blocks.0.ffn.2.scale_weight: expected a scale of shape [64, 2, 1]"), p);
    }
}
