package dev.loraid.wan.text;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MiniFloats;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.WanCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.loraid.wan.text.Umt5EncoderGoldenTest.assertClose;
import static dev.loraid.wan.text.Umt5EncoderGoldenTest.golden;
import static dev.loraid.wan.text.Umt5EncoderGoldenTest.pth;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The key layouts of spec vae-t5.md §4b, fp8-scaled weights, and the files people mix up. */
class Umt5CheckpointTest {
    @TempDir
    Path dir;

    /** The Hugging Face / ComfyUI name of upstream key {@code k} (spec §4b, read backwards). */
    static String hfName(String k) {
        if (k.equals("token_embedding.weight")) {
            return "shared.weight";
        }
        if (k.equals("norm.weight")) {
            return "encoder.final_layer_norm.weight";
        }
        String[] p = k.split("\\.", 3);
        String b = "encoder.block." + p[1] + ".layer.";
        String rest = p[2];
        return switch (rest.substring(0, rest.lastIndexOf('.'))) {
            case "attn.q", "attn.k", "attn.v", "attn.o" -> b + "0.SelfAttention." + rest.substring(5);
            case "pos_embedding.embedding" -> b + "0.SelfAttention.relative_attention_bias.weight";
            case "norm1" -> b + "0.layer_norm.weight";
            case "ffn.gate.0" -> b + "1.DenseReluDense.wi_0" + rest.substring(rest.lastIndexOf('.'));
            case "ffn.fc1" -> b + "1.DenseReluDense.wi_1" + rest.substring(rest.lastIndexOf('.'));
            case "ffn.fc2" -> b + "1.DenseReluDense.wo" + rest.substring(rest.lastIndexOf('.'));
            case "norm2" -> b + "1.layer_norm.weight";
            default -> throw new IllegalArgumentException(k);
        };
    }

    private static Tensor hidden(Path weights) throws IOException {
        try (Umt5Checkpoint ck = Umt5Checkpoint.open(weights);
             SafetensorsFile g = SafetensorsFile.open(golden("umt5_tiny_forward.safetensors"))) {
            return ck.model().forward(g.tensor("input_ids"), g.tensor("attention_mask")).copy();
        }
    }

    private static Map<String, Tensor> goldenWeights(SafetensorsFile f) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String n : f.names()) {
            m.put(n, f.tensor(n));
        }
        return m;
    }

    @Test
    void huggingFaceLayoutGivesTheSameModel() throws IOException {
        Path hf = dir.resolve("umt5_xxl_fp16_layout.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("umt5_tiny_weights.safetensors"))) {
            Map<String, Tensor> renamed = new LinkedHashMap<>();
            goldenWeights(f).forEach((k, t) -> renamed.put(hfName(k), t));
            renamed.put("encoder.embed_tokens.weight", f.tensor("token_embedding.weight")); // tied copy, as HF saves it
            SafetensorsWriter.write(hf, renamed, Map.of());
        }
        try (Umt5Checkpoint ck = Umt5Checkpoint.open(hf)) {
            assertEquals(new Umt5Config(64, 32, 32, 48, 4, 2, 32, 128, false, 1e-6), ck.config());
            assertTrue(ck.weights().containsKey("blocks.1.ffn.gate.0.weight"));
        }
        assertClose("HF layout vs upstream names", hidden(golden("umt5_tiny_weights.safetensors")), hidden(hf), 0, 0);
    }

    @Test
    void encoderPrefixIsDeletedAsUpstreamDoes() throws IOException {
        Path prefixed = dir.resolve("prefixed.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("umt5_tiny_weights.safetensors"))) {
            Map<String, Tensor> renamed = new LinkedHashMap<>();
            goldenWeights(f).forEach((k, t) -> renamed.put("encoder." + k, t));
            SafetensorsWriter.write(prefixed, renamed, Map.of());
        }
        assertClose("encoder.-prefixed names", hidden(golden("umt5_tiny_weights.safetensors")), hidden(prefixed), 0, 0);
    }

    /**
     * ComfyUI's {@code umt5_xxl_fp8_e4m3fn_scaled}: Linear weights in F8_E4M3 with one {@code scale_weight} each and
     * a {@code scaled_fp8} marker. The model must equal the one built from the dequantised weights (w_fp8 · scale
     * in F32) up to where the GEMM applies the scale (before or after the sum: float rounding, ~1e-6).
     */
    @Test
    void fp8ScaledHuggingFaceFileMatchesItsDequantisedWeights() throws IOException {
        Path fp8 = dir.resolve("umt5_fp8_scaled.safetensors");
        Path deq = dir.resolve("umt5_dequantised.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("umt5_tiny_weights.safetensors"))) {
            Map<String, Tensor> q = new LinkedHashMap<>();
            Map<String, Tensor> d = new LinkedHashMap<>();
            goldenWeights(f).forEach((k, t) -> {
                boolean linear = k.contains(".attn.") || k.contains(".ffn.");
                if (!linear) {
                    q.put(hfName(k), t);
                    d.put(k, t);
                    return;
                }
                double[] v = t.toDoubleArray();
                double max = 0;
                for (double x : v) {
                    max = Math.max(max, Math.abs(x));
                }
                float scale = (float) (max / 448.0);
                Tensor w8 = Tensor.empty(DType.F8_E4M3, t.size(0), t.size(1));
                double[] back = new double[v.length];
                for (int i = 0; i < v.length; i++) {
                    float e = MiniFloats.e4m3ToFloat(MiniFloats.floatToE4m3((float) (v[i] / scale)));
                    w8.setDouble(e, i / t.size(1), i % t.size(1));
                    back[i] = (double) e * scale;
                }
                String base = k.substring(0, k.length() - ".weight".length());
                q.put(hfName(k), w8);
                q.put(hfName(base + ".scale_weight"), Tensor.of(new float[] {scale}, 1));
                d.put(k, Tensor.ofDoubles(back, t.size(0), t.size(1)).to(DType.F32));
            });
            q.put("scaled_fp8", Tensor.empty(DType.F8_E4M3, 1));
            SafetensorsWriter.write(fp8, q, Map.of());
            SafetensorsWriter.write(deq, d, Map.of());
        }
        try (Umt5Checkpoint ck = Umt5Checkpoint.open(fp8)) {
            assertEquals(DType.F8_E4M3, ck.weights().get("blocks.0.attn.q.weight").dtype(), "kept in its file dtype");
            assertTrue(ck.weights().containsKey("blocks.0.ffn.fc2.scale_weight"));
        }
        assertClose("fp8-scaled vs dequantised", hidden(deq), hidden(fp8), 1e-5, 1e-5);
    }

    /**
     * shared_pos (T5's one top-level table, {@code pos_embedding.embedding.weight}) is inferred from the keys and gives
     * exactly the per-layer model whose every layer holds that same table.
     */
    @Test
    void sharedPositionTableEqualsPerLayerCopiesOfIt() throws IOException {
        Path shared = dir.resolve("shared.safetensors");
        Path copies = dir.resolve("copies.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("umt5_tiny_weights.safetensors"))) {
            Tensor table = f.tensor("blocks.0.pos_embedding.embedding.weight");
            Map<String, Tensor> s = new LinkedHashMap<>();
            Map<String, Tensor> c = new LinkedHashMap<>();
            goldenWeights(f).forEach((k, t) -> {
                boolean pos = k.contains("pos_embedding");
                if (!pos) {
                    s.put(k, t);
                }
                c.put(k, pos ? table : t);
            });
            s.put("pos_embedding.embedding.weight", table);
            SafetensorsWriter.write(shared, s, Map.of());
            SafetensorsWriter.write(copies, c, Map.of());
        }
        try (Umt5Checkpoint ck = Umt5Checkpoint.open(shared)) {
            assertTrue(ck.config().sharedPos(), ck.config().describe());
        }
        assertClose("shared table vs per-layer copies", hidden(copies), hidden(shared), 0, 0);
    }

    @Test
    void aDitOrVaeGivenAsTheTextEncoderIsRefusedByName() {
        for (String[] c : new String[][] {{"golden", "wan_tiny_weights.safetensors", "is a Wan DiT checkpoint"},
                                          {"golden", "vae_tiny_weights.safetensors", "is a Wan VAE checkpoint"},
                                          {"pth", "vae_tiny_bf16.pth", "is a Wan VAE checkpoint"}}) {
            Path p = c[0].equals("pth") ? pth(c[1]) : golden(c[1]);
            var e = assertThrows(IllegalArgumentException.class, () -> Umt5Checkpoint.open(p));
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains(c[2] + ", not a UMT5 text encoder"),
                    e.getMessage());
        }
    }

    @Test
    void theTextEncoderGivenAsTheDitIsRefusedByName() {
        for (Path p : new Path[] {golden("umt5_tiny_weights.safetensors"), pth("umt5_tiny_bf16.pth")}) {
            var e = assertThrows(IllegalArgumentException.class, () -> WanCheckpoint.open(p));
            assertTrue(e.getMessage().contains(p.getFileName().toString())
                    && e.getMessage().contains("UMT5 text encoder, not a Wan DiT"), e.getMessage());
        }
    }

    @Test
    void aMissingOrMisShapedKeyIsNamed() throws IOException {
        Path broken = dir.resolve("broken.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("umt5_tiny_weights.safetensors"))) {
            Map<String, Tensor> m = goldenWeights(f);
            m.remove("blocks.1.ffn.fc2.weight");
            m.put("blocks.0.norm2.weight", Tensor.zeros(DType.F32, 31));
            SafetensorsWriter.write(broken, m, Map.of());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Umt5Checkpoint.open(broken));
        assertTrue(e.getMessage().contains("broken.safetensors") && e.getMessage().contains("missing blocks.1.ffn.fc2.weight")
                && e.getMessage().contains("blocks.0.norm2.weight: expected [32], got [31]"), e.getMessage());
    }
}
