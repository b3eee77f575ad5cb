package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 16 §7: messages name the file at fault; a text encoder is not taken for a DiT; no logging records on stderr. */
class MessagesTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");
    private static final String DIT = GOLDEN.resolve("wan_tiny_weights.safetensors").toString();
    private static final String LORA = GOLDEN.resolve("lora_tiny.safetensors").toString();
    private static final String UMT5 = GOLDEN.resolve("umt5_tiny_weights.safetensors").toString();
    private static final String VAE = GOLDEN.resolve("vae_tiny_weights.safetensors").toString();

    @TempDir
    Path dir;

    private static void failsNaming(CliRun r, String... mentions) {
        assertEquals(1, r.code(), r.err());
        for (String m : mentions) {
            assertTrue(r.err().contains(m), "expected '" + m + "' in: " + r.err());
        }
    }

    @Test
    void a_lora_given_as_the_model_is_named() {
        failsNaming(run("wan-forward", "--dit", LORA, "--inputs", GOLDEN.resolve("wan_tiny_forward.safetensors").toString(), "--out",
                dir.resolve("o.safetensors").toString()), LORA, "LoRA file, not a");
        failsNaming(run("merge", "--dit", LORA, "--lora_weight", LORA, "--save_merged_model", dir.resolve("o.safetensors").toString()),
                LORA, "LoRA file, not a Wan DiT");
    }

    @Test
    void a_checkpoint_without_blocks_is_named() {
        failsNaming(run("plan", "--dit", VAE), VAE, "no 'blocks.N.' weights found");
        failsNaming(run("validate", "--dit", VAE, "--lora_weight", LORA), VAE, "no 'blocks.N.' weights found");
    }

    @Test
    void the_text_encoder_is_not_a_dit() {
        failsNaming(run("plan", "--dit", UMT5), UMT5, "not a Wan DiT checkpoint");
        failsNaming(run("merge", "--dit", UMT5, "--lora_weight", LORA, "--save_merged_model", dir.resolve("o.safetensors").toString()),
                UMT5, "not a Wan DiT checkpoint");
    }

    @Test
    void device_auto_warns_in_one_plain_line() {
        CliRun r = run("demo", "--check", "--device", "auto"); // the golden checks: quick, and nothing written to the working dir
        // without a usable GPU the fallback is said on the command's own stderr (java.util.logging wrote to the process's)
        assertTrue(r.err().contains("warning: --device auto: using the CPU, cuda:0 is not usable: ") || r.out().contains("cuda:0"),
                r.out() + r.err());
        assertFalse(r.err().matches("(?s).*(WARNING:|java\\.util\\.logging|dev\\.loraid\\.tensor\\.Backends resolve).*"), r.err());
    }
}
