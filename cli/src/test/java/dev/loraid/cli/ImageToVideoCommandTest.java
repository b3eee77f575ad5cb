package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.clip.ClipVisionConfig;
import dev.loraid.wan.clip.ClipWeights;
import dev.loraid.wan.WanWeights;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --image_path} on a tiny Wan 2.2 i2v DiT (random weights, no CLIP branch) with the tiny VAE: a 64×32
 * start image at an asked 48×32 gives a 48×16 video (its 2:1 aspect at the asked area, whole latent cells; latent
 * [4, 2, 2, 6]), the image's name goes to the metadata, another image gives another video; the flags that cannot go
 * together are usage errors.
 */
class ImageToVideoCommandTest {
    @TempDir
    Path dir;
    private Path dit;
    private Path embeds;
    private Path stats;

    private static Path golden(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name);
    }

    @BeforeEach
    void inputs() throws Exception {
        dit = dir.resolve("tiny_i2v.safetensors");
        SafetensorsWriter.write(dit, WanWeights.random(WanPresets.TINY_I2V_V22, 5).tensors(), Map.of());
        embeds = dir.resolve("embeds.safetensors");
        stats = dir.resolve("vae_stats.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("sample_tiny.safetensors"));
             SafetensorsFile v = SafetensorsFile.open(golden("vae_tiny_forward.safetensors"))) {
            SafetensorsWriter.write(embeds, Map.of("context", f.tensor("context").copy(), "context_null",
                    f.tensor("context_null").copy()), Map.of());
            SafetensorsWriter.write(stats, Map.of("latents_mean", v.tensor("latents_mean").copy(), "latents_std",
                    v.tensor("latents_std").copy()), Map.of());
        }
    }

    private Path image(String name, int seed) throws Exception {
        BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB);
        SplittableRandom r = new SplittableRandom(seed);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        Path p = dir.resolve(name);
        ImageIO.write(img, "png", p.toFile());
        return p;
    }

    private CliRun generate(String out, String... more) {
        return generate(out, "tiny-i2v", dit, more);
    }

    private CliRun generate(String out, String task, Path model, String... more) {
        List<String> args = new ArrayList<>(List.of("generate", "--task", task, "--dit", model.toString(), "--text_embeds",
                embeds.toString(), "--video_size", "32", "48", "--video_length", "5", "--infer_steps", "3", "--seed", "9",
                "--vae", golden("vae_tiny_weights.safetensors").toString(), "--vae_latent_stats", stats.toString(),
                "--output_type", "latent", "--quiet", "--save_path", dir.resolve(out).toString()));
        args.addAll(List.of(more));
        return CliRun.run(args.toArray(String[]::new));
    }

    private static Path latentFile(CliRun r) {
        return r.out().lines().map(Path::of).filter(p -> p.toString().endsWith("_latent.safetensors")).findFirst().orElseThrow(
                () -> new AssertionError("no latent in " + r.out() + r.err()));
    }

    @Test
    void aStartImageSetsTheSizeAndSteersTheVideo() throws Exception {
        CliRun a = generate("a", "--image_path", image("start.png", 1).toString());
        assertEquals(0, a.code(), a.err());
        CliRun b = generate("b", "--image_path", image("other.png", 2).toString());
        assertEquals(0, b.code(), b.err());
        try (SafetensorsFile fa = SafetensorsFile.open(latentFile(a)); SafetensorsFile fb = SafetensorsFile.open(latentFile(b))) {
            assertArrayEquals(new long[] {4, 2, 2, 6}, fa.tensor("latent").shape().toArray());
            assertEquals("16", fa.metadata().get("height"));
            assertEquals("48", fa.metadata().get("width"));
            assertEquals("start.png", fa.metadata().get("image_path"));
            assertFalse(Arrays.equals(fa.tensor("latent").toDoubleArray(), fb.tensor("latent").toDoubleArray()),
                "another start image, another video");
        }
    }

    /** A CLIP file the tiny 2.1 I2V DiT can read: ViT-H's token shape (257 × 1280) with one block run of two, MLP 64. */
    private Path clip(long seed) throws Exception {
        Map<String, dev.loraid.tensor.Tensor> tower = new java.util.LinkedHashMap<>();
        ClipWeights.random(new ClipVisionConfig(1280, 2, 16, 64, 14, 224), seed).forEach((k, t) -> tower.put("visual." + k, t));
        Path p = dir.resolve("clip" + seed + ".safetensors");
        SafetensorsWriter.write(p, tower, Map.of());
        return p;
    }

    /**
     * Wan 2.1 image-to-video (--task tiny-i2v-clip: y and the CLIP branch, as i2v-14B) with --clip: it runs, and another
     * CLIP file (other tokens for the same image) gives another video.
     */
    @Test
    void wan21TakesTheStartImagesClipTokens() throws Exception {
        Path dit21 = dir.resolve("tiny_i2v_clip.safetensors");
        SafetensorsWriter.write(dit21, WanWeights.random(WanPresets.TINY_I2V, 6).tensors(), Map.of());
        String img = image("start.png", 1).toString();
        CliRun a = generate("a", "tiny-i2v-clip", dit21, "--image_path", img, "--clip", clip(1).toString());
        assertEquals(0, a.code(), a.err());
        CliRun b = generate("b", "tiny-i2v-clip", dit21, "--image_path", img, "--clip", clip(2).toString());
        assertEquals(0, b.code(), b.err());
        try (SafetensorsFile fa = SafetensorsFile.open(latentFile(a)); SafetensorsFile fb = SafetensorsFile.open(latentFile(b))) {
            assertArrayEquals(new long[] {4, 2, 2, 6}, fa.tensor("latent").shape().toArray());
            assertFalse(Arrays.equals(fa.tensor("latent").toDoubleArray(), fb.tensor("latent").toDoubleArray()),
                "other CLIP tokens, another video");
        }
    }

    /**
     * First-last-frame (--task tiny-flf2v, as flf2v-14B) with --end_image_path: another end image gives another video, its
     * name goes to the metadata; without it, or given to a task that is not first-last-frame, it is a usage error.
     */
    @Test
    void firstLastFrameTakesAnEndImage() throws Exception {
        Path flf = dir.resolve("tiny_flf2v.safetensors");
        SafetensorsWriter.write(flf, WanWeights.random(WanPresets.TINY_FLF2V, 7).tensors(), Map.of());
        String start = image("start.png", 1).toString();
        String clip = clip(1).toString();
        CliRun a = generate("a", "tiny-flf2v", flf, "--image_path", start, "--end_image_path", image("end.png", 3).toString(),
                "--clip", clip);
        assertEquals(0, a.code(), a.err());
        CliRun b = generate("b", "tiny-flf2v", flf, "--image_path", start, "--end_image_path", image("other_end.png", 4).toString(),
                "--clip", clip);
        assertEquals(0, b.code(), b.err());
        try (SafetensorsFile fa = SafetensorsFile.open(latentFile(a)); SafetensorsFile fb = SafetensorsFile.open(latentFile(b))) {
            assertEquals("end.png", fa.metadata().get("end_image_path"));
            assertFalse(Arrays.equals(fa.tensor("latent").toDoubleArray(), fb.tensor("latent").toDoubleArray()),
                "another end image, another video");
        }
        CliRun noEnd = generate("c", "tiny-flf2v", flf, "--image_path", start, "--clip", clip);
        assertEquals(2, noEnd.code(), noEnd.err());
        assertTrue(noEnd.err().contains("--task tiny-flf2v is first-last-frame: give --end_image_path too"), noEnd.err());
        CliRun notHere = generate("d", "--image_path", start, "--end_image_path", start);
        assertEquals(2, notHere.code(), notHere.err());
        assertTrue(notHere.err().contains("--end_image_path: --task tiny-i2v is not a first-last-frame task"), notHere.err());
    }

    /**
     * Fun-Control I2V (--task tiny-i2v-FC, as i2v-14B-FC) with --control_path (a folder of frames): another control video
     * gives another video; without it, or given to a task that is not Fun-Control, it is a usage error.
     */
    @Test
    void funControlTakesAControlVideo() throws Exception {
        Path fc = dir.resolve("tiny_fc.safetensors");
        SafetensorsWriter.write(fc, WanWeights.random(WanPresets.TINY_I2V, 8).tensors(), Map.of());
        String start = image("start.png", 1).toString();
        String clip = clip(1).toString();
        String[] controls = controls();
        CliRun a = generate("a", "tiny-i2v-FC", fc, "--image_path", start, "--clip", clip, "--control_path", controls[0]);
        assertEquals(0, a.code(), a.err());
        CliRun b = generate("b", "tiny-i2v-FC", fc, "--image_path", start, "--clip", clip, "--control_path", controls[1]);
        assertEquals(0, b.code(), b.err());
        try (SafetensorsFile fa = SafetensorsFile.open(latentFile(a)); SafetensorsFile fb = SafetensorsFile.open(latentFile(b))) {
            assertFalse(Arrays.equals(fa.tensor("latent").toDoubleArray(), fb.tensor("latent").toDoubleArray()),
                "another control video, another video");
        }
        CliRun none = generate("c", "tiny-i2v-FC", fc, "--image_path", start, "--clip", clip);
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("--task tiny-i2v-FC is Fun-Control: give --control_path"), none.err());
        CliRun notHere = generate("d", "--image_path", start, "--control_path", controls[0]);
        assertEquals(2, notHere.code(), notHere.err());
        assertTrue(notHere.err().contains("--control_path: --task tiny-i2v is not a Fun-Control task"), notHere.err());
    }

    /**
     * One-frame inference (musubi docs/wan_1f.md) on --task tiny-i2v-clip: one latent frame comes out, the metadata names
     * the option and the control images; another target position or another control image gives another image; a
     * --control_image_path without --one_frame_inference, a count that does not match control_index and a text-to-video
     * task are usage errors.
     */
    @Test
    void oneFrameInferenceGeneratesOneFrameAtItsPosition() throws Exception {
        Path dit21 = dir.resolve("tiny_i2v_clip.safetensors");
        SafetensorsWriter.write(dit21, WanWeights.random(WanPresets.TINY_I2V, 6).tensors(), Map.of());
        String start = image("start.png", 1).toString();
        String other = image("other.png", 2).toString();
        String clip = clip(1).toString();
        CliRun a = generate("a", "tiny-i2v-clip", dit21, "--image_path", start, "--clip", clip, "--one_frame_inference",
                "control_index=0,target_index=1", "--control_image_path", start);
        assertEquals(0, a.code(), a.err());
        CliRun b = generate("b", "tiny-i2v-clip", dit21, "--image_path", start, "--clip", clip, "--one_frame_inference",
                "control_index=0,target_index=9", "--control_image_path", start);
        assertEquals(0, b.code(), b.err());
        CliRun c = generate("c", "tiny-i2v-clip", dit21, "--image_path", start, "--clip", clip, "--one_frame_inference",
                "control_index=0,target_index=1", "--control_image_path", other);
        assertEquals(0, c.code(), c.err());
        try (SafetensorsFile fa = SafetensorsFile.open(latentFile(a)); SafetensorsFile fb = SafetensorsFile.open(latentFile(b));
             SafetensorsFile fc = SafetensorsFile.open(latentFile(c))) {
            assertArrayEquals(new long[] {4, 1, 2, 6}, fa.tensor("latent").shape().toArray());
            assertEquals("target_index=1,control_index=0", fa.metadata().get("one_frame_inference"));
            assertEquals("start.png", fa.metadata().get("control_image_path"));
            assertFalse(Arrays.equals(fa.tensor("latent").toDoubleArray(), fb.tensor("latent").toDoubleArray()),
                "another target position, another image");
            assertFalse(Arrays.equals(fa.tensor("latent").toDoubleArray(), fc.tensor("latent").toDoubleArray()),
                "another control image, another image");
        }
        // intermediate-frame one-frame inference on the FLF2V layout: start and end images' tokens, controls at 0 and 2
        Path flf = dir.resolve("tiny_flf2v.safetensors");
        SafetensorsWriter.write(flf, WanWeights.random(WanPresets.TINY_FLF2V, 7).tensors(), Map.of());
        CliRun middle = generate("m", "tiny-flf2v", flf, "--image_path", start, "--end_image_path", other, "--clip", clip,
                "--one_frame_inference", "control_index=0;2,target_index=1", "--control_image_path", start, other);
        assertEquals(0, middle.code(), middle.err());
        try (SafetensorsFile fm = SafetensorsFile.open(latentFile(middle))) {
            assertArrayEquals(new long[] {4, 1, 2, 6}, fm.tensor("latent").shape().toArray());
            assertEquals("start.png other.png", fm.metadata().get("control_image_path"));
        }
        String[][] errors = {
            {"tiny-i2v-clip", "--control_image_path", start, null, null,
                "--control_image_path is for one-frame inference: give --one_frame_inference too"},
            {"tiny-i2v-clip", "--one_frame_inference", "control_index=0;2,target_index=1", "--control_image_path", start,
                "--control_image_path: 1 image(s) for control_index [0, 2]"},
            {"tiny", "--one_frame_inference", "control_index=0,target_index=1", "--control_image_path", start,
                "--one_frame_inference: --task tiny is not an image-to-video task"},
        };
        for (String[] e : errors) {
            List<String> more = new ArrayList<>(List.of("--clip", clip));
            if (!e[0].equals("tiny")) {
                more.addAll(List.of("--image_path", start));
            }
            for (int i = 1; i < 5; i++) {
                if (e[i] != null) {
                    more.add(e[i]);
                }
            }
            CliRun r = generate("x", e[0], dit21, more.toArray(String[]::new));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(e[5]), r.err());
        }
    }

    /**
     * T2V Fun-Control (--task tiny-t2v-FC, as t2v-1.3B-FC; upstream's T2V path): the control video alone conditions the
     * video, at the asked size, without CLIP tokens; another control video gives another video; --clip and a missing
     * control video are usage errors.
     */
    @Test
    void textToVideoFunControlTakesTheControlVideoAlone() throws Exception {
        Path fc = dir.resolve("tiny_t2v_fc.safetensors");
        SafetensorsWriter.write(fc, WanWeights.random(WanPresets.TINY_I2V, 8).tensors(), Map.of());
        String[] controls = controls();
        CliRun a = generate("a", "tiny-t2v-FC", fc, "--control_path", controls[0]);
        assertEquals(0, a.code(), a.err());
        CliRun b = generate("b", "tiny-t2v-FC", fc, "--control_path", controls[1]);
        assertEquals(0, b.code(), b.err());
        try (SafetensorsFile fa = SafetensorsFile.open(latentFile(a)); SafetensorsFile fb = SafetensorsFile.open(latentFile(b))) {
            assertArrayEquals(new long[] {4, 2, 4, 6}, fa.tensor("latent").shape().toArray(), "the asked 32x48, 5 frames");
            assertEquals("control0", fa.metadata().get("control_path"));
            assertFalse(Arrays.equals(fa.tensor("latent").toDoubleArray(), fb.tensor("latent").toDoubleArray()),
                "another control video, another video");
        }
        CliRun clip = generate("c", "tiny-t2v-FC", fc, "--control_path", controls[0], "--clip", clip(1).toString());
        assertEquals(2, clip.code(), clip.err());
        assertTrue(clip.err().contains("--clip: --task tiny-t2v-FC takes no CLIP tokens"), clip.err());
        CliRun none = generate("d", "tiny-t2v-FC", fc);
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("--task tiny-t2v-FC is Fun-Control: give --control_path"), none.err());
    }

    /** Two control videos, folders of five random frames each. */
    private String[] controls() throws Exception {
        String[] controls = new String[2];
        for (int c = 0; c < 2; c++) {
            Path folder = java.nio.file.Files.createDirectories(dir.resolve("control" + c));
            for (int f = 0; f < 5; f++) {
                java.nio.file.Files.copy(image("c" + c + "_" + f + ".png", 10 * c + f), folder.resolve(String.format("%03d.png", f)));
            }
            controls[c] = folder.toString();
        }
        return controls;
    }

    /**
     * --from_file on a Fun-Control task: each line's --cn (else --control_path) conditions that line's video; two lines that
     * differ only in it give two videos, each naming its control in the metadata; a line without one, and no
     * --control_path, is a usage error naming the line, as is a --cn line for a task that is not Fun-Control.
     */
    @Test
    void promptFileLinesTakeTheirOwnControlVideo() throws Exception {
        Path fc = dir.resolve("tiny_fc.safetensors");
        SafetensorsWriter.write(fc, WanWeights.random(WanPresets.TINY_I2V, 8).tensors(), Map.of());
        String[] controls = controls();
        Path prompts = dir.resolve("prompts.txt");
        java.nio.file.Files.writeString(prompts, "a cat --cn " + controls[0] + " --d 9\na cat --d 9\n");
        List<String> args = new ArrayList<>(List.of("generate", "--task", "tiny-i2v-FC", "--dit", fc.toString(), "--t5",
                golden("umt5_tiny_weights.safetensors").toString(), "--tokenizer", golden("spm_tiny_tokenizer.json").toString(),
                "--from_file", prompts.toString(), "--image_path", image("start.png", 1).toString(), "--clip",
                clip(1).toString(), "--control_path", controls[1], "--video_size", "32", "48", "--video_length", "5",
                "--infer_steps", "3", "--vae", golden("vae_tiny_weights.safetensors").toString(), "--vae_latent_stats",
                stats.toString(), "--output_type", "latent", "--quiet", "--save_path", dir.resolve("f").toString()));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<Path> latents = r.out().lines().map(Path::of).filter(p -> p.toString().endsWith("_latent.safetensors")).toList();
        assertEquals(2, latents.size(), r.out());
        Map<String, double[]> byControl = new java.util.TreeMap<>();
        for (Path p : latents) {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                byControl.put(f.metadata().get("control_path"), f.tensor("latent").toDoubleArray());
            }
        }
        assertEquals(java.util.Set.of("control0", "control1"), byControl.keySet());
        assertFalse(Arrays.equals(byControl.get("control0"), byControl.get("control1")), "another control video, another video");

        args.subList(args.indexOf("--control_path"), args.indexOf("--control_path") + 2).clear();
        CliRun none = CliRun.run(args.toArray(String[]::new));
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("prompts.txt:2: --task tiny-i2v-FC is Fun-Control: give the line a control video (--cn) "
                + "or --control_path"), none.err());
        args.set(args.indexOf("tiny-i2v-FC"), "tiny-i2v");
        args.set(args.indexOf("--dit") + 1, dit.toString());
        CliRun notFc = CliRun.run(args.toArray(String[]::new));
        assertEquals(2, notFc.code(), notFc.err());
        assertTrue(notFc.err().contains("prompts.txt:1: a control video (--cn), but --task tiny-i2v is not a Fun-Control task"),
                notFc.err());
    }

    @Test
    void flagsThatCannotGoTogetherAreUsageErrors() throws Exception {
        String img = image("start.png", 1).toString();
        String[][] cases = {
            {"tiny-i2v", null, "--task tiny-i2v is image-to-video: give --image_path (and --vae)"},
            {"tiny", img, "--image_path: --task tiny is not an image-to-video task"},
            {"t2v-14B-FC", img, "--image_path: --task t2v-14B-FC is not an image-to-video task (i2v-14B and i2v-A14B are; "
                + "i2v-14B-FC takes a start image beside the control video)"},
        };
        for (String[] c : cases) {
            List<String> more = new ArrayList<>(List.of("--task", c[0]));
            if (c[1] != null) {
                more.addAll(List.of("--image_path", c[1]));
            }
            List<String> args = new ArrayList<>(List.of("generate", "--dit", dit.toString(), "--text_embeds", embeds.toString(),
                    "--quiet", "--save_path", dir.resolve("x").toString()));
            args.addAll(more);
            CliRun r = CliRun.run(args.toArray(String[]::new));
            assertEquals(2, r.code(), Arrays.toString(c) + ": " + r.err());
            assertTrue(r.err().contains(c[2]), Arrays.toString(c) + ": " + r.err());
        }
        CliRun noVae = CliRun.run("generate", "--task", "tiny-i2v", "--dit", dit.toString(), "--text_embeds", embeds.toString(),
                "--image_path", img, "--quiet", "--save_path", dir.resolve("y").toString());
        assertEquals(2, noVae.code(), noVae.err());
        assertTrue(noVae.err().contains("image-to-video needs --vae"), noVae.err());
        CliRun noClip = generate("z", "tiny-i2v-clip", dit, "--image_path", img);
        assertEquals(2, noClip.code(), noClip.err());
        assertTrue(noClip.err().contains("--task tiny-i2v-clip takes the start image's CLIP tokens: give --clip"), noClip.err());
        CliRun clipHere = generate("w", "--image_path", img, "--clip", clip(3).toString());
        assertEquals(2, clipHere.code(), clipHere.err());
        assertTrue(clipHere.err().contains("--clip: --task tiny-i2v has no CLIP image branch"), clipHere.err());
    }

    /** --from_file: each line's --i (else --image_path) conditions that line's video, as --image_path does alone. */
    @Test
    void promptFileLinesTakeTheirOwnStartImage() throws Exception {
        Path start = image("start.png", 1);
        Path other = image("other.png", 2);
        Path prompts = dir.resolve("prompts.txt");
        java.nio.file.Files.writeString(prompts, "a cat --i " + start + " --s 9\na dog --s 9\n");
        List<String> args = new ArrayList<>(List.of("generate", "--task", "tiny-i2v", "--dit", dit.toString(), "--t5",
                golden("umt5_tiny_weights.safetensors").toString(), "--tokenizer", golden("spm_tiny_tokenizer.json").toString(),
                "--from_file", prompts.toString(), "--image_path", other.toString(), "--video_size", "32", "48",
                "--video_length", "5", "--infer_steps", "3", "--vae", golden("vae_tiny_weights.safetensors").toString(),
                "--vae_latent_stats", stats.toString(), "--output_type", "latent", "--quiet", "--save_path",
                dir.resolve("f").toString()));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<Path> latents = r.out().lines().map(Path::of).filter(p -> p.toString().endsWith("_latent.safetensors")).toList();
        assertEquals(2, latents.size(), r.out());
        List<String> images = new ArrayList<>();
        for (Path p : latents) {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                images.add(f.metadata().get("image_path"));
                assertArrayEquals(new long[] {4, 2, 2, 6}, f.tensor("latent").shape().toArray());
            }
        }
        assertEquals(List.of("other.png", "start.png"), images.stream().sorted().toList());
        Path bare = dir.resolve("bare.txt");
        java.nio.file.Files.writeString(bare, "a cat\n");
        args.set(args.indexOf("--from_file") + 1, bare.toString());
        args.subList(args.indexOf("--image_path"), args.indexOf("--image_path") + 2).clear();
        CliRun none = CliRun.run(args.toArray(String[]::new));
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("bare.txt:1: --task tiny-i2v is image-to-video: give the line a start image (--i) or "
                + "--image_path"), none.err());
    }
}
