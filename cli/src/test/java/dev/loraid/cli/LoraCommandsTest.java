package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.loraid.core.Floats;
import dev.loraid.tensor.json.Json;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plan, merge, convert and ema commands end to end on the golden files: outputs, exit codes, messages. */
class LoraCommandsTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");

    @TempDir
    Path dir;

    private static String g(String name) {
        return GOLDEN.resolve(name).toString();
    }

    private static void assertClose(String golden, Path actual) throws Exception {
        try (SafetensorsFile e = SafetensorsFile.open(GOLDEN.resolve(golden)); SafetensorsFile a = SafetensorsFile.open(actual)) {
            assertEquals(e.names().size(), a.names().size());
            for (String n : e.names()) {
                float[] x = Floats.read(e.tensor(n));
                float[] y = Floats.read(a.tensor(n));
                for (int i = 0; i < x.length; i++) {
                    if (!(Math.abs(x[i] - y[i]) <= 1e-6 + 1e-5 * Math.abs(x[i]))) {
                        fail(n + "[" + i + "]: expected " + x[i] + ", got " + y[i]);
                    }
                }
            }
        }
    }

    @Test
    void plan_on_a_checkpoint_prints_ranges_and_modules() {
        CliRun r = run("plan", "--dit", g("wan_tiny_weights.safetensors"), "--blocks_per_loraid", "2", "--LORAID", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("4 blocks; 2 blocks per LORAID -> 2 LORAIDs fit"), r.out());
        assertTrue(r.out().contains("LORAID 2: blocks 2-3, 20 modules"), r.out());
        assertTrue(r.out().contains("blocks.3: cross_attn.k cross_attn.o cross_attn.q cross_attn.v ffn.0 ffn.2"), r.out());
    }

    @Test
    void plan_on_a_preset_as_json() {
        CliRun r = run("plan", "--model", "t2v-A14B", "--LORAID", "3", "--json");
        assertEquals(0, r.code(), r.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> plan = (Map<String, Object>) Json.parse(r.out());
        assertEquals(24L, plan.get("start"));
        assertEquals(35L, plan.get("end"));
        assertEquals(40L, plan.get("total_blocks"));
        assertEquals(3L, plan.get("max_loraid"));
        assertEquals(120, ((List<?>) plan.get("modules")).size());
        assertEquals(36, ((List<?>) plan.get("include_patterns")).size());
        CliRun i2v = run("plan", "--model", "i2v-14B", "--LORAID", "1", "--json");
        assertEquals(144, ((List<?>) ((Map<?, ?>) Json.parse(i2v.out())).get("modules")).size());
    }

    @Test
    void plan_id_forms_and_errors() {
        CliRun forms = run("plan", "--num_blocks", "40", "--LORAID", "1", "--LORAID", "2,3", "--json");
        assertEquals(0, forms.code(), forms.err());
        assertEquals(3, ((List<?>) Json.parse(forms.out())).size());
        CliRun beyond = run("plan", "--num_blocks", "40", "--LORAID", "4");
        assertEquals(1, beyond.code());
        assertTrue(beyond.err().contains("only blocks 36–39 exist") && beyond.err().contains("valid LORAIDs are 1–3"), beyond.err());
        CliRun bad = run("plan", "--num_blocks", "40", "--LORAID", "x");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("invalid LORAID value 'x'"), bad.err());
        CliRun warn = run("plan", "--num_blocks", "40", "--blocks_per_loraid", "3", "--LORAID", "13");
        assertEquals(0, warn.code());
        assertTrue(warn.err().contains("warning:") && warn.err().contains("block 39"), warn.err());
        assertEquals(2, run("plan", "--LORAID", "1").code());
    }

    @Test
    void merge_golden_and_loraid_pairing() throws Exception {
        Path out = dir.resolve("m.safetensors");
        CliRun r = run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", g("lora_tiny.safetensors"),
                "--lora_multiplier", "0.8", "--save_merged_model", out.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertClose("lora_merged_weights.safetensors", out);
        Path out2 = dir.resolve("ids.safetensors");
        CliRun ids = run("merge", "--dit", g("wan_tiny_weights.safetensors"),
                "--lora_weight", g("lora_id1.safetensors") + "," + g("lora_id2.safetensors"),
                "--LORAID", "1", "2", "--lora_multiplier", "1.0", "--lora_multiplier", "0.7", "--blocks_per_loraid", "2",
                "--save_merged_model", out2.toString());
        assertEquals(0, ids.code(), ids.err());
        assertTrue(ids.err().contains("no block overlaps"), ids.err());
        assertClose("lora_id_merged_weights.safetensors", out2);
    }

    @Test
    void merge_both_experts_of_a14b() throws Exception {
        Path low = dir.resolve("low.safetensors");
        Path high = dir.resolve("high.safetensors");
        CliRun r = run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", g("lora_tiny.safetensors"),
                "--lora_multiplier", "0.8", "--save_merged_model", low.toString(),
                "--dit_high_noise", g("wan_tiny_weights.safetensors"), "--lora_weight_high_noise", g("lora_tiny.safetensors"),
                "--lora_multiplier_high_noise", "0.8", "--save_merged_model_high_noise", high.toString());
        assertEquals(0, r.code(), r.err());
        assertClose("lora_merged_weights.safetensors", low);
        assertClose("lora_merged_weights.safetensors", high);
        CliRun lost = run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", g("lora_tiny.safetensors"),
                "--save_merged_model", dir.resolve("l2.safetensors").toString(), "--dit_high_noise", g("wan_tiny_weights.safetensors"),
                "--lora_weight_high_noise", g("lora_tiny.safetensors"));
        assertEquals(2, lost.code());
        assertTrue(lost.err().contains("--save_merged_model_high_noise"), lost.err());
        assertFalse(Files.exists(dir.resolve("l2.safetensors")));
    }

    @Test
    void merge_usage_and_runtime_errors() {
        Path out = dir.resolve("x.safetensors");
        CliRun amb = run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", g("lora_id1.safetensors"),
                g("lora_id2.safetensors"), "--LORAID", "1", "1", "2", "--lora_multiplier", "1", "0.5", "0.3", "--save_merged_model", out.toString());
        assertEquals(2, amb.code());
        assertTrue(amb.err().contains("ambiguous"), amb.err());
        CliRun few = run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", g("lora_id1.safetensors"),
                g("lora_id2.safetensors"), g("lora_tiny.safetensors"), "--lora_multiplier", "1", "0.5", "--save_merged_model", out.toString());
        assertEquals(1, few.code());
        assertTrue(few.err().contains("got 2 multipliers for 3 LoRAs"), few.err());
        CliRun overlap = run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", g("lora_id1.safetensors"),
                "--LORAID", "2", "--blocks_per_loraid", "2", "--save_merged_model", out.toString());
        assertEquals(1, overlap.code());
        assertTrue(overlap.err().contains("contains adapters for block(s) [0, 1]"), overlap.err());
        CliRun isDir = run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", g("lora_tiny.safetensors"),
                "--save_merged_model", dir.toString());
        assertEquals(1, isDir.code());
        assertTrue(isDir.err().contains("is a directory"), isDir.err());
        CliRun missing = run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", dir.resolve("nope.safetensors").toString(),
                "--save_merged_model", out.toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nope.safetensors"), missing.err());
        assertFalse(Files.exists(out));
        assertEquals(2, run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--save_merged_model", out.toString()).code());
    }

    @Test
    void convert_round_trip_is_byte_exact() throws Exception {
        Path other = dir.resolve("other.safetensors");
        Path back = dir.resolve("back.safetensors");
        Path again = dir.resolve("again.safetensors");
        assertEquals(0, run("convert", "--input", g("lora_tiny.safetensors"), "--output", other.toString(), "--target", "other").code());
        assertEquals(0, run("convert", "--input", other.toString(), "--output", back.toString(), "--target", "default").code());
        assertEquals(0, run("convert", "--input", back.toString(), "--output", again.toString(), "--target", "other").code());
        assertEquals(-1, Files.mismatch(other, again));
        CliRun same = run("convert", "--input", other.toString(), "--output", dir.resolve("o2.safetensors").toString(), "--target", "other");
        assertEquals(1, same.code());
        assertTrue(same.err().contains("already in diffusers/ComfyUI format"), same.err());
        assertEquals(2, run("convert", "--input", other.toString(), "--output", back.toString(), "--target", "comfy").code());
    }

    @Test
    void ema_golden_and_flag_errors() throws Exception {
        Path out = dir.resolve("ema.safetensors");
        CliRun r = run("ema", g("ema_lora-000001.safetensors"), g("ema_lora-000002.safetensors"), g("ema_lora-000003.safetensors"),
                g("ema_lora-000004.safetensors"), "--no_sort", "--sigma_rel", "0.2", "--output_file", out.toString());
        assertEquals(0, r.code(), r.err());
        assertClose("ema_sigma_rel.safetensors", out);
        Path lin = dir.resolve("lin.safetensors");
        assertEquals(0, run("ema", g("ema_lora-000001.safetensors"), g("ema_lora-000002.safetensors"), g("ema_lora-000003.safetensors"),
                g("ema_lora-000004.safetensors"), "--no_sort", "--beta", "0.95", "--beta2", "0.99", "--output_file", lin.toString()).code());
        assertClose("ema_linear.safetensors", lin);
        CliRun both = run("ema", g("ema_lora-000001.safetensors"), "--beta", "0.9", "--sigma_rel", "0.2", "--output_file", out.toString());
        assertEquals(2, both.code());
        assertTrue(both.err().contains("both modes"), both.err());
        CliRun noOut = run("ema", "--lora1", g("ema_lora-000001.safetensors"));
        assertEquals(2, noOut.code());
        assertTrue(noOut.err().contains("no output requested"), noOut.err());
        CliRun slot = run("ema", "--lora1", g("ema_lora-000001.safetensors"), "--output_file_lora3", out.toString());
        assertEquals(2, slot.code());
        assertTrue(slot.err().contains("--output_file_lora3 given without --lora3"), slot.err());
        CliRun sigma = run("ema", "--lora1", g("ema_lora-000001.safetensors"), "--sigma_rel", "0.3", "--output_file", out.toString());
        assertEquals(2, sigma.code());
        assertTrue(sigma.err().contains("(0, 0.2887]"), sigma.err());
    }

    @Test
    void tag_then_validate() throws Exception {
        Path tagged = dir.resolve("id2.safetensors");
        CliRun t = run("tag", g("lora_id2.safetensors"), "--LORAID", "2", "--blocks_per_loraid", "2", "--num_blocks", "4", "-o", tagged.toString());
        assertEquals(0, t.code(), t.err());
        try (SafetensorsFile orig = SafetensorsFile.open(GOLDEN.resolve("lora_id2.safetensors")); SafetensorsFile f = SafetensorsFile.open(tagged)) {
            assertEquals("2", f.metadata().get("ss_loraid"));
            assertEquals("4", f.metadata().get("ss_loraid_total_blocks"));
            for (String n : orig.names()) {
                assertEquals(-1, orig.tensor(n).storage().segment().mismatch(f.tensor(n).storage().segment()), n);
            }
        }
        CliRun wrong = run("tag", g("lora_id2.safetensors"), "--LORAID", "1", "--blocks_per_loraid", "2", "--num_blocks", "4",
                "-o", dir.resolve("bad.safetensors").toString());
        assertEquals(1, wrong.code());
        assertTrue(wrong.err().contains("contains adapters for block(s) [2, 3]"), wrong.err());
        // the tagged file brings its own block count and ID: no --dit, no --LORAID needed
        CliRun ok = run("validate", "--lora_weight", tagged.toString(), g("lora_id1.safetensors"));
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("| 2 | 2-3 | 1.0") && ok.out().contains("valid for a 4-block model"), ok.out());
        CliRun dup = run("validate", "--lora_weight", tagged.toString(), tagged.toString());
        assertEquals(1, dup.code());
        assertTrue(dup.err().contains("given twice"), dup.err());
        CliRun none = run("validate", "--lora_weight", g("lora_id1.safetensors"));
        assertEquals(1, none.code());
        assertTrue(none.err().contains("cannot determine model block count"), none.err());
    }

    @Test
    void help_lists_the_lora_commands() {
        CliRun r = run("--help");
        for (String c : List.of("plan", "merge", "convert", "ema")) {
            assertTrue(r.out().contains("  " + c + " "), r.out());
        }
        assertEquals(0, run("merge", "--help").code());
    }
}
