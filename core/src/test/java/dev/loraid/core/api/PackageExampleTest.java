package dev.loraid.core.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.WanInputs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example of the package comment, run as written on the golden tiny model, against golden results. */
class PackageExampleTest {
    @TempDir
    Path dir;

    @Test
    void thePackageExampleRunsAsWrittenAndMatchesTheGoldenFiles() throws IOException {
        Path ditFile = Golden.path("wan_tiny_weights.safetensors");
        Path styleLora = Golden.path("lora_tiny.safetensors");
        Path loraid1 = Golden.path("lora_id1.safetensors");
        Path loraid2 = Golden.path("lora_id2.safetensors");
        Path mergedFile = dir.resolve("merged.safetensors");
        List<Path> epochFiles = new ArrayList<>();
        for (int e = 1; e <= 4; e++) {
            epochFiles.add(Golden.path("ema_lora-00000" + e + ".safetensors"));
        }
        Path emaFile = dir.resolve("ema.safetensors");
        try (SafetensorsFile golden = SafetensorsFile.open(Golden.path("lora_merged_forward.safetensors"))) {
            Tensor latent = golden.tensor("x");
            Tensor t = golden.tensor("t");
            Tensor context = golden.tensor("context");

            Tensor velocity;
            try (LoadedModel dit = Loraid.open(ditFile);
                 AttachedLoras style = dit.attach(Loras.builder().add(styleLora, 0.8).build())) {
                velocity = dit.model().forward(WanInputs.of(latent, t, context)); // the LoRA at 0.8; detached on close
            }
            Loraid.merge(ditFile, Loras.builder().add(loraid1).add(loraid2).loraid(1, 1.0).loraid(2, 0.7)
                    .blocksPerLoraid(2).build(), mergedFile);
            Loraid.ema(epochFiles, 0.2, emaFile); // power EMA, sigma_rel 0.2, oldest file first

            Golden.assertClose("velocity with lora_tiny at 0.8", golden.tensor("output"), velocity, 1e-4, 1e-4);
        }
        Golden.assertClose(Golden.path("lora_id_merged_weights.safetensors"), mergedFile, 1e-6, 1e-5);
        Golden.assertClose(Golden.path("ema_sigma_rel.safetensors"), emaFile, 1e-6, 1e-5);
    }

    /** The example above is the package comment's, line for line (indentation aside). */
    @Test
    void thePackageCommentShowsThisTestsCode() throws IOException {
        List<String> example = new ArrayList<>();
        boolean in = false;
        for (String line : Files.readAllLines(Path.of("src/main/java/dev/loraid/core/api/package-info.java"))) {
            String text = line.replaceFirst("^ \\* ?", "");
            if (text.startsWith("}</pre>")) {
                break;
            }
            if (in) {
                example.add(text.strip());
            }
            in |= text.startsWith("<pre>{@code");
        }
        assertTrue(example.size() >= 5, "example: " + example);
        List<String> test = Files.readAllLines(Path.of("src/test/java/dev/loraid/core/api/PackageExampleTest.java"))
                .stream().map(String::strip).toList();
        assertEquals(example, test.subList(test.indexOf(example.getFirst()), test.indexOf(example.getFirst()) + example.size()));
    }

    /** The README's "As a library" example is the same code (checked where the README is, i.e. in a full checkout). */
    @Test
    void theReadmeShowsThisTestsCode() throws IOException {
        Path readme = Path.of("..", "README.md");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(readme), "no README.md beside the core module");
        List<String> lines = Files.readAllLines(readme);
        int from = lines.indexOf("```java") + 1;
        assertTrue(from > 0, "a java block in the README");
        List<String> example = lines.subList(from, lines.subList(from, lines.size()).indexOf("```") + from).stream()
                .map(String::strip).toList();
        List<String> test = Files.readAllLines(Path.of("src/test/java/dev/loraid/core/api/PackageExampleTest.java"))
                .stream().map(String::strip).toList();
        assertEquals(example, test.subList(test.indexOf(example.getFirst()), test.indexOf(example.getFirst()) + example.size()));
    }

    @Test
    void lorasAreValidatedWhenBuilt() {
        Path f = Path.of("a.safetensors");
        assertThrows(IllegalArgumentException.class, () -> Loras.builder().build());
        assertThrows(IllegalArgumentException.class, () -> Loras.builder().add(f, Double.NaN).build());
        assertThrows(IllegalArgumentException.class, () -> Loras.builder().add(f, 0.8).loraid(1, 1.0).build());
        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class, () -> Loras.builder().add(f).build());
        assertTrue(plain.getMessage().contains("add(Path, double)"), plain.getMessage());
        assertEquals(List.of(0.5, 2.0), Loras.builder().add(f).add(f).loraid(3, 0.5).loraid(4, 2.0).build().multipliers());
    }
}
