package dev.loraid.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.Floats;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.core.LoraFixtures;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** training.md §7 conversion, and the key mapping of spec loraid.md §0: round trips checked byte for byte. */
class LoraConverterTest {
    @TempDir
    Path dir;

    private Path roundTrip(Path musubi, boolean keepAlpha, String tag) {
        Path other = dir.resolve(tag + "-other.safetensors");
        Path back = dir.resolve(tag + "-back.safetensors");
        LoraFiles.write(LoraConverter.toDiffusers(LoraFiles.read(musubi), LoraKeys.DIFFUSERS_PREFIX, keepAlpha), other);
        LoraFiles.write(LoraConverter.toMusubi(LoraFiles.read(other), Reporter.SILENT), back);
        return back;
    }

    @Test
    void keys_map_both_ways() {
        assertEquals("lora_unet_blocks_3_self_attn_q", LoraKeys.loraName("blocks.3.self_attn.q"));
        assertEquals("lora_unet_blocks_7_ffn_0.lora_down.weight", LoraKeys.key("blocks.7.ffn.0", LoraKeys.Part.DOWN));
        for (String m : new String[] {"blocks.3.self_attn.q", "blocks.12.cross_attn.k_img", "blocks.0.cross_attn.v_img", "blocks.39.ffn.2"}) {
            assertEquals(m, LoraKeys.modulePath(LoraKeys.loraName(m)));
        }
        assertEquals(new LoraKeys.Key("lora_unet_blocks_0_self_attn_q", LoraKeys.Part.DOWN),
                LoraKeys.parseDiffusers("diffusion_model.blocks.0.self_attn.q.lora_A.weight"));
        assertEquals(new LoraKeys.Key("lora_unet_blocks_0_ffn_2", LoraKeys.Part.UP), LoraKeys.parseDiffusers("transformer.blocks.0.ffn.2.lora_B.weight"));
        assertEquals(new LoraKeys.Key("lora_unet_blocks_1_ffn_0", LoraKeys.Part.ALPHA), LoraKeys.parse("lora_unet_blocks_1_ffn_0.alpha"));
        assertEquals(null, LoraKeys.parse("lora_te_text_model.alpha"));
        assertEquals(12, LoraKeys.blockIndex("lora_unet_blocks_12_ffn_0").getAsInt());
        assertTrue(LoraKeys.blockIndex("lora_unet_head_head").isEmpty());
    }

    @Test
    void golden_lora_round_trips_byte_exact_with_kept_alpha() throws Exception {
        Path back = roundTrip(Golden.path("lora_tiny.safetensors"), true, "keep");
        LoraFile orig = LoraFiles.read(Golden.path("lora_tiny.safetensors"));
        LoraFile got = LoraFiles.read(back);
        assertEquals(orig.tensors().keySet(), got.tensors().keySet());
        orig.tensors().forEach((k, t) -> Golden.assertSameBytes(k, t, got.tensors().get(k)));
        assertEquals(orig.metadata().get("ss_network_dim"), got.metadata().get("ss_network_dim"));
    }

    @Test
    void round_trip_with_baked_alpha_equal_to_rank_is_byte_exact() throws Exception {
        Path musubi = dir.resolve("m.safetensors");
        LoraFiles.write(LoraFixtures.randomLora("m", 3, 0, 1, 2, 2.0f, Map.of("ss_network_dim", "2")), musubi);
        Path back = roundTrip(musubi, false, "bake");
        assertEquals(-1, Files.mismatch(musubi, back));
    }

    @Test
    void other_to_default_to_other_is_byte_exact() throws Exception {
        Path musubi = dir.resolve("m.safetensors");
        LoraFiles.write(LoraFixtures.randomLora("m", 4, 0, 1, 2, 1.0f, Map.of()), musubi);
        Path other = dir.resolve("o.safetensors");
        LoraFiles.write(LoraConverter.toDiffusers(LoraFiles.read(musubi), "diffusion_model", false), other);
        Path musubi2 = dir.resolve("m2.safetensors");
        LoraFiles.write(LoraConverter.toMusubi(LoraFiles.read(other), Reporter.SILENT), musubi2);
        Path other2 = dir.resolve("o2.safetensors");
        LoraFiles.write(LoraConverter.toDiffusers(LoraFiles.read(musubi2), "diffusion_model", false), other2);
        assertEquals(-1, Files.mismatch(other, other2));
        LoraFile o = LoraFiles.read(other);
        assertTrue(o.tensors().containsKey("diffusion_model.blocks.0.cross_attn.k.lora_A.weight"));
        assertFalse(o.tensors().keySet().stream().anyMatch(k -> k.endsWith(".alpha")));
    }

    @Test
    void baked_alpha_preserves_the_update() {
        LoraFile m = LoraFixtures.randomLora("m", 5, 0, 0, 2, 0.5f, Map.of());
        LoraFile back = LoraConverter.toMusubi(LoraConverter.toDiffusers(m, "diffusion_model", false), new CollectingReporter());
        LoraWeights a = LoraWeights.of(m, Reporter.SILENT);
        LoraWeights b = LoraWeights.of(back, Reporter.SILENT);
        for (String name : a.modules().keySet()) {
            float[] da = delta(a.modules().get(name));
            float[] db = delta(b.modules().get(name));
            for (int i = 0; i < da.length; i++) {
                assertEquals(da[i], db[i], 1e-6 + 1e-5 * Math.abs(da[i]), name);
            }
        }
    }

    private static float[] delta(LoraModule m) {
        Tensor w = Tensor.zeros(dev.loraid.tensor.DType.F32, m.up().size(0), m.down().size(1));
        dev.loraid.core.merge.LoraDelta.addTo(w, m, m.scale());
        return Floats.read(w);
    }

    @Test
    void diffusers_lora_merges_like_its_musubi_form() {
        LoraFile m = LoraFixtures.randomLora("m", 6, 0, 0, 2, 2f, Map.of());
        LoraFile d = LoraConverter.toDiffusers(m, "diffusion_model", true);
        LoraWeights w = LoraWeights.of(d, Reporter.SILENT); // converted on load (REQ-MERGE-1)
        assertEquals(LoraWeights.of(m, Reporter.SILENT).modules().keySet(), w.modules().keySet());
        Tensor alpha = m.tensors().get("lora_unet_blocks_0_ffn_0.alpha");
        assertEquals(Floats.read(alpha)[0], w.modules().get("lora_unet_blocks_0_ffn_0").alpha());
    }
}
