package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: every writing command given a read-only output folder fails before it reads any input (the inputs here do
 * not exist, and the message must not be about them), with exit 1 and a message naming the folder. The folder is
 * made read-only with chmod 555; where that does not stop writes (root) it is a read-only bind mount instead, or the
 * test is skipped saying why.
 */
@DisabledOnOs(OS.WINDOWS)
class ReadOnlyFolderTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");

    @TempDir
    Path dir;
    private final Mounts mounts = new Mounts();
    private Path ro;
    private String missing;

    @BeforeEach
    void readOnlyFolder() throws IOException {
        ro = Files.createDirectory(dir.resolve("ro"));
        missing = dir.resolve("missing-input.safetensors").toString();
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path probe = ro.resolve("probe");
        try {
            Files.createFile(probe);
        } catch (IOException refused) {
            return; // chmod works: not root
        }
        Files.delete(probe);
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        String problem = mounts.readOnly(Files.createDirectory(dir.resolve("empty")), ro);
        assumeTrue(problem == null, "chmod 555 does not stop writes here (root) and no read-only mount: " + problem);
    }

    @AfterEach
    void restore() throws IOException {
        mounts.close();
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Exit 1 naming the folder (and {@code flag}), not the missing inputs. */
    private Executable refused(String flag, String... args) {
        return () -> {
            CliRun r = CliRun.run(args);
            String what = args[0] + ": " + r.err();
            assertEquals(1, r.code(), what);
            assertTrue(r.err().contains(ro.toString()) && r.err().contains(flag), what);
            assertFalse(r.err().contains("missing-input"), "an input was read first: " + what);
        };
    }

    private Path dataset() throws IOException {
        Path images = Files.createDirectory(dir.resolve("images"));
        ImageIO.write(new BufferedImage(48, 32, BufferedImage.TYPE_3BYTE_BGR), "png", images.resolve("a.png").toFile());
        Files.writeString(images.resolve("a.txt"), "a caption");
        return Files.writeString(dir.resolve("ds.toml"), "[general]\nresolution = [48, 32]\ncaption_extension = \".txt\"\n\n"
            + "[[datasets]]\nimage_directory = \"" + images + "\"\ncache_directory = \"" + ro + "\"\n");
    }

    @Test
    void every_writing_command_refuses_a_read_only_folder_before_reading_its_inputs() throws IOException {
        Function<String, String> out = name -> ro.resolve(name).toString();
        Path toml = dataset();
        assertAll(
            refused("--save_merged_model", "merge", "--dit", missing, "--lora_weight", missing, "--save_merged_model", out.apply("m.safetensors")),
            refused("--output_file", "ema", missing, "--output_file", out.apply("e.safetensors")),
            refused("--output", "convert", "--input", missing, "--output", out.apply("c.safetensors"), "--target", "other"),
            refused("-o", "tag", missing, "--LORAID", "1", "--num_blocks", "4", "-o", out.apply("t.safetensors")),
            refused("--out", "wan-forward", "--dit", missing, "--inputs", missing, "--out", out.apply("w.safetensors")),
            refused("--out", "t5-forward", "--t5", missing, "--inputs", missing, "--out", out.apply("t5.safetensors")),
            refused("--out", "vae-forward", "--vae", missing, "--inputs", missing, "--out", out.apply("v.safetensors")),
            refused("--output_dir", "train", "--dit", missing, "--dataset_config", missing, "--output_dir", ro.toString(), "--output_name", "t"),
            refused("--output_dir", "train", "--dit", missing, "--dataset_config", missing, "--output_dir", out.apply("new"), "--output_name", "t"),
            refused("cache_directory", "cache", "--dataset_config", toml.toString(), "--vae", missing),
            refused("--save_path", "generate", "--task", "t2v-1.3B", "--dit", missing, "--text_embeds", missing, "--save_path", ro.toString()),
            refused("--save_path", "generate", "--latent_path", missing, "--save_path", out.apply("frames")));
        try (Stream<Path> left = Files.list(ro)) {
            assertEquals(List.of(), left.toList());
        }
    }
}
