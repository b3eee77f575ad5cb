package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 §4 for ema, convert, cache and train (merge: {@link OutputFaultsTest}): each runs in a child JVM killed
 * with SIGKILL once while it writes (as soon as a temp file or folder appears) and at {@value #RANDOM_KILLS} seeded
 * random moments of an uninterrupted run's duration. After every kill each output is absent, as it was before, or
 * complete and equal to the uninterrupted run's — never partial; the next run to the folder succeeds and leaves no
 * temp file or folder behind (a SIGKILL runs no shutdown hook: the next run removes what the dead writer left).
 */
@DisabledOnOs(OS.WINDOWS)
class SigkillTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");
    private static final int RANDOM_KILLS = 2;
    private static final byte[] OLD = "the previous output".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    /** What one command's outputs must look like after a kill. */
    private interface Outputs {
        /** Puts the "before" state in place (an old file at an output path, or nothing). */
        void reset() throws IOException;

        /** Checks each output is absent, old, or complete and equal to the uninterrupted run's. */
        void check(String when) throws IOException;
    }

    private static List<Path> temps(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".")).toList();
        }
    }

    /**
     * The kill procedure shared by every command; {@code args} writes into {@code folder}; the first kill comes as soon
     * as a temp file or folder there matches {@code writing}.
     */
    private void killAndCheck(String name, List<String> args, Path folder, Predicate<Path> writing, Outputs outputs) throws Exception {
        long t0 = System.nanoTime();
        CliRun straight = ChildLoraid.run(List.of(), args);
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, straight.code(), straight.err());
        outputs.check("after the uninterrupted run");
        Random random = new Random(name.hashCode());
        for (int k = -1; k < RANDOM_KILLS; k++) {
            outputs.reset();
            Path log = dir.resolve(name + "-" + (k + 1) + ".log");
            Process p = ChildLoraid.start(List.of(), args, log);
            String when;
            if (k < 0) {
                while (p.isAlive() && temps(folder).stream().noneMatch(writing)) {
                    Thread.onSpinWait();
                }
                when = "killed as it wrote " + temps(folder);
            } else {
                long at = (long) (millis * random.nextDouble());
                p.waitFor(at, TimeUnit.MILLISECONDS);
                when = "killed at " + at + " of " + millis + " ms";
            }
            p.destroyForcibly();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            outputs.check(name + " " + when + " (exit " + p.exitValue() + "): " + Files.readString(log));
        }
        CliRun next = CliRun.run(args.toArray(String[]::new));
        assertEquals(0, next.code(), next.err());
        assertEquals(List.of(), temps(folder), name + ": temp files survived the next run");
        outputs.check("after the next run");
    }

    /** A LoRA file of {@code modules} rank-32 modules of width {@code width}: 32·width·8 bytes each, values from {@code seed}. */
    private static Path bigLora(Path file, int modules, int width, long seed) throws IOException {
        Random r = new Random(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int m = 0; m < modules; m++) {
            String module = "lora_unet_blocks_" + m + "_self_attn_q";
            float[] down = new float[32 * width];
            for (int i = 0; i < down.length; i += 97) {
                down[i] = (float) r.nextGaussian();
            }
            t.put(module + ".lora_down.weight", Tensor.of(down, 32, width));
            t.put(module + ".lora_up.weight", Tensor.of(down, width, 32));
            t.put(module + ".alpha", Tensor.full(DType.F32, 16.0));
        }
        SafetensorsWriter.write(file, t, Map.of("ss_network_module", "networks.lora_wan"));
        return file;
    }

    /** One output file: absent or old (as reset left it), or byte-equal to the uninterrupted run's. */
    private Outputs oneFile(Path output) {
        return new Outputs() {
            private byte[] complete;

            @Override
            public void reset() throws IOException {
                Files.write(output, OLD);
            }

            @Override
            public void check(String when) throws IOException {
                byte[] now = Files.readAllBytes(output);
                if (complete == null) {
                    complete = now;
                } else if (!java.util.Arrays.equals(OLD, now)) {
                    assertArrayEquals(complete, now, "a partial output " + when);
                }
            }
        };
    }

    @Test
    void convert() throws Exception {
        Path in = bigLora(dir.resolve("in.safetensors"), 4, 1 << 17, 1);
        Path out = Files.createDirectory(dir.resolve("out"));
        Path output = out.resolve("converted.safetensors");
        killAndCheck("convert", List.of("convert", "--input", in.toString(), "--output", output.toString(), "--target", "other"),
            out, p -> true, oneFile(output));
    }

    @Test
    void ema() throws Exception {
        List<String> args = new ArrayList<>(List.of("ema"));
        for (int e = 1; e <= 3; e++) {
            args.add(bigLora(dir.resolve(String.format("run-%06d.safetensors", e)), 2, 1 << 17, e).toString());
        }
        Path out = Files.createDirectory(dir.resolve("out"));
        Path output = out.resolve("ema.safetensors");
        args.addAll(List.of("--sigma_rel", "0.2", "--output_file", output.toString()));
        killAndCheck("ema", args, out, p -> true, oneFile(output));
    }

    @Test
    void cache() throws Exception {
        Path images = Files.createDirectory(dir.resolve("images"));
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
        int n = 80;
        for (int i = 0; i < n; i++) {
            ImageIO.write(img, "png", images.resolve(i + ".png").toFile());
            Files.writeString(images.resolve(i + ".txt"), "caption number " + i);
        }
        Path cache = Files.createDirectory(dir.resolve("cache"));
        Path toml = Files.writeString(dir.resolve("ds.toml"), "[general]\nresolution = [16, 16]\ncaption_extension = \".txt\"\n\n"
            + "[[datasets]]\nimage_directory = \"" + images + "\"\ncache_directory = \"" + cache + "\"\n");
        List<String> args = List.of("cache", "--dataset_config", toml.toString(), "--t5", GOLDEN.resolve("umt5_tiny_weights.safetensors").toString(),
            "--tokenizer", GOLDEN.resolve("spm_tiny_tokenizer.json").toString(), "--text_len", "8", "--quiet");
        killAndCheck("cache", args, cache, p -> true, new Outputs() {
            private final Map<Path, byte[]> complete = new LinkedHashMap<>();

            @Override
            public void reset() {
                // the caches of the previous run stay: they are the old outputs
            }

            @Override
            public void check(String when) throws IOException {
                for (int i = 0; i < n; i++) {
                    Path f = cache.resolve(i + "_wan_te.safetensors");
                    if (complete.size() < n) {
                        complete.put(f, Files.readAllBytes(f));
                    } else if (Files.exists(f)) {
                        assertArrayEquals(complete.get(f), Files.readAllBytes(f), f + ": a partial cache " + when);
                    }
                }
            }
        });
    }

    @Test
    void train() throws Exception {
        Path toml = TrainCommandTest.dataset(dir);
        Path out = dir.resolve("out");
        List<String> args = List.of("train", "--dit", GOLDEN.resolve("wan_tiny_weights.safetensors").toString(), "--dataset_config",
            toml.toString(), "--network_dim", "16", "--max_train_steps", "12", "--seed", "1", "--learning_rate", "1e-3",
            "--save_every_n_steps", "1", "--save_state", "--output_dir", out.toString(), "--output_name", "t", "--quiet");
        Files.createDirectories(out);
        // the first kill hits the writing of a state folder
        killAndCheck("train", args, out, p -> p.getFileName().toString().contains("-state"), new Outputs() {
            private final Map<String, byte[]> complete = new LinkedHashMap<>();

            @Override
            public void reset() {
                // the files of the previous run stay: they are the old outputs
            }

            @Override
            public void check(String when) throws IOException {
                try (Stream<Path> s = Files.list(out)) {
                    for (Path p : s.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                        String f = p.getFileName().toString();
                        Path tensors = f.endsWith("-state") ? p.resolve("state.safetensors") : p;
                        if (!f.endsWith("-state") && !f.endsWith(".safetensors")) {
                            continue; // the loss log
                        }
                        try (SafetensorsFile sf = SafetensorsFile.open(tensors)) {
                            // same seed, same steps: every step's LoRA and state equal the uninterrupted run's
                            Map<String, float[]> values = new LinkedHashMap<>();
                            for (String n : sf.names()) {
                                values.put(n, sf.tensor(n).toFloatArray());
                            }
                            byte[] digest = digest(values);
                            byte[] expected = complete.putIfAbsent(f, digest);
                            if (expected != null) {
                                assertArrayEquals(expected, digest, f + " differs " + when);
                            }
                        } catch (IOException | RuntimeException e) {
                            throw new AssertionError(tensors + " is not a complete safetensors file " + when, e);
                        }
                    }
                }
            }
        });
    }

    private static byte[] digest(Map<String, float[]> values) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            values.forEach((n, v) -> {
                md.update(n.getBytes(StandardCharsets.UTF_8));
                for (float x : v) {
                    int b = Float.floatToIntBits(x);
                    md.update(new byte[] {(byte) b, (byte) (b >> 8), (byte) (b >> 16), (byte) (b >> 24)});
                }
            });
            return md.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
