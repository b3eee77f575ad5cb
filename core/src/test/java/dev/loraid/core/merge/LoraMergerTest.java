package dev.loraid.core.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.BaseModelFixture;
import dev.loraid.core.CollectingReporter;
import dev.loraid.core.Floats;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.core.LoraFixtures;
import dev.loraid.core.LoraidException;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.core.plan.LoraidAllocator;
import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec loraid.md §4 on a 40-block bf16 fixture: T-26, T-27 and the bad-input cases of issue 6. */
class LoraMergerTest {
    @TempDir
    Path dir;
    Path base;
    Path id1;
    Path id2;

    @BeforeEach
    void fixtures() throws Exception {
        base = BaseModelFixture.write(dir.resolve("base.safetensors"), 40, DType.BF16, 1);
        id1 = lora("id1.safetensors", 1, 0, 11, 11);
        id2 = lora("id2.safetensors", 2, 12, 23, 22);
    }

    private Path lora(String name, int id, int first, int last, long seed) {
        Map<String, String> meta = id > 0 ? LoraidMetadata.of(LoraidAllocator.slice(id, 12, 40)) : Map.of();
        LoraFile f = LoraFixtures.randomLora(name, seed, first, last, 2, 1.0f, meta);
        Path p = dir.resolve(name);
        LoraFiles.write(f, p);
        return p;
    }

    private MergeRequest req(List<Path> loras, List<Double> mult, Path out) {
        return new MergeRequest(base, loras, Optional.empty(), mult, null, false, List.of(), List.of(), null, out);
    }

    private List<Path> filesIn(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }

    @Test
    void t26_merge_disjoint_untouched() throws Exception {
        Path out = dir.resolve("out.safetensors");
        LoraMerger.merge(req(List.of(id1, id2), List.of(1.0, 0.7), out), new CollectingReporter());
        try (SafetensorsFile b = SafetensorsFile.open(base); SafetensorsFile o = SafetensorsFile.open(out)) {
            assertEquals(b.names(), o.names());
            int changed = 0;
            for (String n : b.names()) {
                Tensor bt = b.tensor(n);
                Tensor ot = o.tensor(n);
                assertEquals(bt.dtype(), ot.dtype(), n);
                assertEquals(bt.shape(), ot.shape(), n);
                boolean adapted = n.endsWith(".weight") && !n.contains("norm") && n.startsWith("blocks.")
                        && Integer.parseInt(n.split("\\.")[1]) <= 23;
                if (adapted) {
                    assertFalse(Golden.sameBytes(bt, ot), n + " should change");
                    changed++;
                } else {
                    Golden.assertSameBytes(n, bt, ot);
                }
            }
            assertEquals(240, changed);
            String merged = o.metadata().get("ss_loraid_merged");
            assertTrue(merged.contains("\"loraid\":1") && merged.contains("\"loraid\":2") && merged.contains("id2.safetensors"), merged);
            for (Path f : List.of(id1, id2)) { // each file's digest, as sha256sum prints it
                String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
                assertTrue(merged.contains("\"sha256\":\"" + hex + "\""), f + " " + hex + " in " + merged);
            }
            assertEquals("wan-like 40 blocks", o.metadata().get("fixture"));
        }
        // one adapted weight against an independent float64 computation, rounded to bf16
        try (SafetensorsFile b = SafetensorsFile.open(base); SafetensorsFile o = SafetensorsFile.open(out);
                SafetensorsFile l = SafetensorsFile.open(id2)) {
            String m = "blocks.15.ffn.0";
            float[] w = Floats.read(b.tensor(m + ".weight"));
            float[] up = Floats.read(l.tensor(LoraKeys.key(m, LoraKeys.Part.UP)));
            float[] down = Floats.read(l.tensor(LoraKeys.key(m, LoraKeys.Part.DOWN)));
            float[] got = Floats.read(o.tensor(m + ".weight"));
            int in = LoraFixtures.DIM;
            for (int r = 0; r < LoraFixtures.FFN; r++) {
                for (int c = 0; c < in; c++) {
                    double ref = w[r * in + c] + 0.7 * 0.5 * (up[r * 2] * (double) down[c] + up[r * 2 + 1] * (double) down[in + c]);
                    float bf = Floats.read(Floats.write(new float[] {(float) ref}, Shape.of(1), DType.BF16))[0];
                    assertEquals(bf, got[r * in + c], Math.ulp(bf) * 1.01, m + "[" + r + "," + c + "]");
                }
            }
        }
    }

    @Test
    void t27_merge_order_invariance() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        LoraMerger.merge(req(List.of(id1, id2), List.of(1.0, 0.7), a), new CollectingReporter());
        LoraMerger.merge(req(List.of(id2, id1), List.of(0.7, 1.0), b), new CollectingReporter());
        try (SafetensorsFile x = SafetensorsFile.open(a); SafetensorsFile y = SafetensorsFile.open(b)) {
            for (String n : x.names()) {
                Golden.assertSameBytes(n, x.tensor(n), y.tensor(n));
            }
        }
    }

    @Test
    void overlapping_loraids_fail_and_leave_nothing() throws Exception {
        Path bad = lora("bad.safetensors", 2, 11, 22, 33); // tagged ID 2 but touches block 11
        Path out = dir.resolve("out.safetensors");
        List<Path> before = filesIn(dir);
        LoraidException e = assertThrows(LoraidException.class, () -> LoraMerger.merge(req(List.of(id1, bad), List.of(), out),
                new CollectingReporter()));
        assertTrue(e.getMessage().contains("contains adapters for block(s) [11]"), e.getMessage());
        assertEquals(before, filesIn(dir));
    }

    @Test
    void output_is_directory_or_an_input() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        LoraidException d = assertThrows(LoraidException.class, () -> LoraMerger.merge(req(List.of(id1), List.of(), sub), new CollectingReporter()));
        assertTrue(d.getMessage().contains("is a directory"), d.getMessage());
        LoraidException in = assertThrows(LoraidException.class, () -> LoraMerger.merge(req(List.of(id1), List.of(), base), new CollectingReporter()));
        assertTrue(in.getMessage().contains("is also an input"), in.getMessage());
        LoraidException lo = assertThrows(LoraidException.class, () -> LoraMerger.merge(req(List.of(id1), List.of(), id1), new CollectingReporter()));
        assertTrue(lo.getMessage().contains("is also an input"), lo.getMessage());
    }

    @Test
    void truncated_lora_fails_and_leaves_nothing() throws Exception {
        byte[] bytes = Files.readAllBytes(id1);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        Path out = dir.resolve("out.safetensors");
        List<Path> before = filesIn(dir);
        LoraidException e = assertThrows(LoraidException.class, () -> LoraMerger.merge(req(List.of(cut), List.of(), out), new CollectingReporter()));
        assertTrue(e.getMessage().contains("cut.safetensors"), e.getMessage());
        assertEquals(before, filesIn(dir));
    }

    @Test
    void lora_for_another_architecture_is_rejected() throws Exception {
        TreeMap<String, Tensor> t = new TreeMap<>();
        t.put("lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight", LoraFixtures.constant(0.1f, 2, 8));
        t.put("lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight", LoraFixtures.constant(0.1f, 24, 2));
        Path hv = dir.resolve("hunyuan.safetensors");
        LoraFiles.write(new LoraFile("hv", t, Map.of()), hv);
        LoraidException e = assertThrows(LoraidException.class,
                () -> LoraMerger.merge(req(List.of(hv), List.of(), dir.resolve("o.safetensors")), new CollectingReporter()));
        assertTrue(e.getMessage().contains("another architecture"), e.getMessage());
        // Wan names but for a bigger model (block 45 of a 40-block base): none fits
        Path big = dir.resolve("big.safetensors");
        LoraFiles.write(LoraFixtures.randomLora("big", 3, 45, 45, 2, 1, Map.of()), big);
        LoraidException e2 = assertThrows(LoraidException.class,
                () -> LoraMerger.merge(req(List.of(big), List.of(), dir.resolve("o.safetensors")), new CollectingReporter()));
        assertTrue(e2.getMessage().contains("another architecture or model size"), e2.getMessage());
    }

    @Test
    void bad_lora_content_is_rejected() throws Exception {
        LoraFile ok = LoraFixtures.randomLora("x", 4, 0, 0, 2, 1, Map.of());
        String q = "lora_unet_blocks_0_self_attn_q";
        TreeMap<String, Tensor> rank = new TreeMap<>(ok.tensors());
        rank.put(q + ".lora_up.weight", LoraFixtures.constant(0.1f, 8, 3));
        TreeMap<String, Tensor> nan = new TreeMap<>(ok.tensors());
        nan.put(q + ".lora_down.weight", LoraFixtures.tensor(DType.F32, Shape.of(2, 8), 0, 0, 0, Float.NaN, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0));
        TreeMap<String, Tensor> unknown = new TreeMap<>(ok.tensors());
        unknown.put(q + ".lora_mid.weight", LoraFixtures.constant(0.1f, 2));
        String[][] cases = {{"rank", "rank mismatch"}, {"nan", "NaN"}, {"unknown", "unrecognised LoRA key"}};
        List<TreeMap<String, Tensor>> contents = List.of(rank, nan, unknown);
        for (int i = 0; i < cases.length; i++) {
            Path p = dir.resolve(cases[i][0] + ".safetensors");
            LoraFile bad = new LoraFile(p.toString(), contents.get(i), Map.of());
            ScopedValue.where(dev.loraid.tensor.safetensors.SafetensorsWriter.ALLOW_NON_FINITE, true).run(() -> LoraFiles.write(bad, p));
            LoraidException e = assertThrows(LoraidException.class,
                    () -> LoraMerger.merge(req(List.of(p), List.of(), dir.resolve("o.safetensors")), new CollectingReporter()));
            assertTrue(e.getMessage().contains(cases[i][1]) && e.getMessage().contains(cases[i][0] + ".safetensors"), e.getMessage());
        }
        assertFalse(Files.exists(dir.resolve("o.safetensors")));
    }

    @Test
    void missing_alpha_defaults_to_rank_with_warning() throws Exception {
        LoraFile ok = LoraFixtures.randomLora("x", 5, 0, 0, 2, 2.0f, Map.of());
        TreeMap<String, Tensor> noAlpha = new TreeMap<>(ok.tensors());
        noAlpha.keySet().removeIf(k -> k.endsWith(".alpha"));
        Path a = dir.resolve("alpha2.safetensors");
        Path n = dir.resolve("noalpha.safetensors");
        LoraFiles.write(ok, a);
        LoraFiles.write(new LoraFile("n", noAlpha, Map.of()), n);
        CollectingReporter r = new CollectingReporter();
        Path oa = dir.resolve("oa.safetensors");
        Path on = dir.resolve("on.safetensors");
        LoraMerger.merge(req(List.of(a), List.of(), oa), r);
        LoraMerger.merge(req(List.of(n), List.of(), on), r);
        assertTrue(r.warned("using alpha = rank"), r.warnings.toString());
        try (SafetensorsFile x = SafetensorsFile.open(oa); SafetensorsFile y = SafetensorsFile.open(on)) {
            for (String k : x.names()) {
                Golden.assertSameBytes(k, x.tensor(k), y.tensor(k)); // alpha 2 = rank 2: same scale
            }
        }
    }
}
