package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 16 §2: {@code validate --dit} runs exactly the checks {@code merge} runs, so it never says ok to a LoRA merge rejects. */
class ValidateParityTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");
    private static final String DIT = GOLDEN.resolve("wan_tiny_weights.safetensors").toString();
    private static final String LORA = GOLDEN.resolve("lora_tiny.safetensors").toString();

    @TempDir
    Path dir;

    private Path lora(String name, Consumer<TreeMap<String, Tensor>> edit) throws IOException {
        Path p = dir.resolve(name);
        try (SafetensorsFile f = SafetensorsFile.open(Path.of(LORA))) {
            TreeMap<String, Tensor> t = new TreeMap<>();
            for (String n : f.names()) {
                t.put(n, f.tensor(n).copy());
            }
            edit.accept(t);
            SafetensorsWriter.write(p, t, f.metadata());
        }
        return p;
    }

    /** validate and merge both fail, and validate's message is merge's. */
    private void bothReject(Path lora, String... mentions) {
        Path out = dir.resolve("merged.safetensors");
        CliRun merge = run("merge", "--dit", DIT, "--lora_weight", lora.toString(), "--save_merged_model", out.toString(), "--quiet");
        CliRun validate = run("validate", "--dit", DIT, "--lora_weight", lora.toString());
        assertEquals(1, merge.code(), merge.err());
        assertEquals(1, validate.code(), validate.out() + validate.err());
        assertFalse(validate.out().contains("ok:"), validate.out());
        String mergeError = merge.err().lines().filter(l -> l.contains("error:")).findFirst().orElseThrow();
        assertTrue(validate.err().contains(mergeError.substring(mergeError.indexOf("error:"))), validate.err() + " vs " + mergeError);
        for (String m : mentions) {
            assertTrue(validate.err().contains(m), "expected '" + m + "' in: " + validate.err());
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void up_rows_that_do_not_match_the_layer() throws Exception {
        bothReject(lora("rows.safetensors", t -> t.put("lora_unet_blocks_0_cross_attn_k.lora_up.weight", Tensor.full(DType.F32, 0.01, 32, 4))),
                "blocks.0.cross_attn.k.weight", "but the base weight is [64, 64]");
    }

    @Test
    void modules_of_a_block_the_model_lacks() throws Exception {
        String q = "lora_unet_blocks_0_self_attn_q";
        bothReject(lora("deep.safetensors", t -> {
            for (String part : new String[] {".lora_down.weight", ".lora_up.weight", ".alpha"}) {
                if (t.containsKey(q + part)) {
                    t.put(q.replace("blocks_0", "blocks_9") + part, t.get(q + part));
                }
            }
        }), "block(s) [9]", "4 blocks");
    }

    @Test
    void a_good_lora_is_still_ok() {
        CliRun r = run("validate", "--dit", DIT, "--lora_weight", LORA);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ok: 1 LoRA(s) valid for a 4-block model"), r.out());
    }
}
