package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 §6: flag rules every command shares (CliArgs): a single-value flag given twice, values out of range and
 * bad regexes are usage errors (exit 2) that name the flag; list flags stay repeatable.
 */
class FlagRulesTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");
    private static final String DIT = GOLDEN.resolve("wan_tiny_weights.safetensors").toString();
    private static final String LORA = GOLDEN.resolve("lora_tiny.safetensors").toString();

    @TempDir
    Path dir;

    private static void usage(CliRun r, String... mentions) {
        assertEquals(2, r.code(), r.err());
        for (String m : mentions) {
            assertTrue(r.err().contains(m), "expected '" + m + "' in: " + r.err());
        }
    }

    @Test
    void a_single_value_flag_given_twice_is_a_usage_error_naming_it() {
        String a = dir.resolve("a.safetensors").toString();
        String b = dir.resolve("b.safetensors").toString();
        usage(run("merge", "--dit", DIT, "--lora_weight", LORA, "--save_merged_model", a, "--save_merged_model", b),
                "--save_merged_model given more than once", a, b);
        usage(run("merge", "--dit", DIT, "--dit", DIT, "--lora_weight", LORA, "--save_merged_model", a), "--dit given more than once");
        usage(run("convert", "--input", LORA, "--output", a, "--target", "other", "--target", "default"), "--target given more than once");
        usage(run("train", "--dit", DIT, "--dit", DIT), "--dit given more than once");
        usage(run("tag", LORA, "--LORAID", "1", "--loraid", "2", "--num_blocks", "4", "-o", a), "--LORAID and its alias --loraid");
        assertFalse(Files.exists(Path.of(a)) || Files.exists(Path.of(b)));
    }

    @Test
    void list_flags_stay_repeatable() {
        CliRun r = run("validate", "--lora_weight", GOLDEN.resolve("lora_id1.safetensors").toString(), "--lora_weight",
                GOLDEN.resolve("lora_id2.safetensors").toString(), "--dit", DIT, "--blocks_per_loraid", "2");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void out_of_range_values_are_usage_errors_naming_the_flag() {
        String out = dir.resolve("o.safetensors").toString();
        usage(run("merge", "--dit", DIT, "--lora_weight", LORA, "--save_merged_model", out, "--blocks_per_loraid", "0"), "--blocks_per_loraid");
        usage(run("validate", "--lora_weight", LORA, "--num_blocks", "4", "--blocks_per_loraid", "0"), "--blocks_per_loraid");
        usage(run("validate", "--lora_weight", LORA, "--num_blocks", "-1"), "--num_blocks");
        usage(run("ema", "--lora1", LORA, "--output_file", out, "--average", "-0.5"), "--average");
        usage(run("ema", "--lora1", LORA, "--output_file", out, "--conflict_threshold", "-1"), "--conflict_threshold");
        usage(run("inspect", "--resolution", "-16x16", DIT), "--resolution");
        usage(run("inspect", "--resolution", "2000000000x2000000000", DIT), "--resolution");
        usage(run("merge", "--dit", DIT, "--lora_weight", "", "--save_merged_model", out), "--lora_weight");
        assertFalse(Files.exists(Path.of(out)));
    }

    @Test
    void a_huge_block_count_is_refused_at_once_not_after_running_out_of_heap() {
        CliRun r = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> run("plan", "--num_blocks", "2147483647", "--blocks_per_loraid", "1"));
        usage(r, "--num_blocks");
    }

    @Test
    void a_bad_regex_is_a_usage_error_naming_the_flag() {
        usage(run("merge", "--dit", DIT, "--lora_weight", LORA, "--save_merged_model", dir.resolve("o.safetensors").toString(),
                "--include_patterns", "blocks_(0"), "--include_patterns", "blocks_(0");
        usage(run("plan", "--num_blocks", "4", "--blocks_per_loraid", "1", "--exclude_patterns", "[a"), "--exclude_patterns");
    }

    @Test
    void a_lora_file_name_with_a_comma_can_be_passed() throws Exception {
        Path comma = Files.copy(Path.of(LORA), dir.resolve("a,b.safetensors"));
        CliRun r = run("validate", "--lora_weight", comma.toString(), "--dit", DIT);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("a,b.safetensors"), r.out());
    }
}
