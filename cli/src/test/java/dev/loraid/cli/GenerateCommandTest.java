package dev.loraid.cli;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.tensor.testing.MaxAbs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code loraid generate} end to end on the tiny DiT (testdata/golden). */
class GenerateCommandTest {
    @TempDir
    Path dir;
    private Path embeds;
    private Path noise;

    private static Path golden(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name);
    }

    @BeforeEach
    void inputs() throws Exception {
        embeds = dir.resolve("embeds.safetensors");
        noise = dir.resolve("noise.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("sample_tiny.safetensors"))) {
            SafetensorsWriter.write(embeds, Map.of("context", f.tensor("context").copy(), "context_null",
                    f.tensor("context_null").copy()), Map.of());
            SafetensorsWriter.write(noise, Map.of("noise", f.tensor("noise").copy()), Map.of());
        }
    }

    /** The sample_tiny setting: unipc, 8 steps, shift 5, guidance 4, 32×48 px, 1 frame → latent [4, 1, 4, 6]. */
    private CliRun generate(String out, String... more) {
        List<String> args = new ArrayList<>(List.of("generate", "--task", "tiny", "--dit",
                golden("wan_tiny_weights.safetensors").toString(), "--text_embeds", embeds.toString(), "--video_size", "32",
                "48", "--video_length", "1", "--infer_steps", "8", "--flow_shift", "5", "--guidance_scale", "4", "--quiet",
                "--save_path", dir.resolve(out).toString()));
        List<String> extra = List.of(more);
        for (String flag : List.of("--task", "--dit", "--video_length")) { // given in `more`, it replaces the default
            if (extra.contains(flag)) {
                args.subList(args.indexOf(flag), args.indexOf(flag) + 2).clear();
            }
        }
        args.addAll(extra);
        if (!args.contains("--output_type")) {
            args.addAll(List.of("--output_type", "latent"));
        }
        return CliRun.run(args.toArray(String[]::new));
    }

    private static Path only(CliRun r, String suffix) {
        return r.out().lines().map(Path::of).filter(p -> p.toString().endsWith(suffix)).findFirst().orElseThrow(
                () -> new AssertionError("no " + suffix + " in " + r.out() + r.err()));
    }

    @Test
    void sameSeedSameBytesAnotherSeedDiffers() throws Exception {
        CliRun a = generate("a", "--seed", "11");
        CliRun b = generate("b", "--seed", "11");
        CliRun c = generate("c", "--seed", "12", "--cpu_noise");
        assertEquals(0, a.code(), a.err());
        assertEquals(0, b.code(), b.err());
        assertEquals(0, c.code(), c.err());
        byte[] la = Files.readAllBytes(only(a, "_latent.safetensors"));
        assertArrayEquals(la, Files.readAllBytes(only(b, "_latent.safetensors")));
        assertFalse(Arrays.equals(la, Files.readAllBytes(only(c, "_latent.safetensors"))));
        assertTrue(only(a, "_latent.safetensors").getFileName().toString().matches("\\d{8}-\\d{6}-\\d{3}_11_latent\\.safetensors"));
        try (SafetensorsFile f = SafetensorsFile.open(only(a, "_latent.safetensors"))) {
            assertEquals("11", f.metadata().get("seeds"));
            assertEquals("tiny", f.metadata().get("task"));
            assertEquals("unipc", f.metadata().get("sample_solver"));
            assertEquals("4.0", f.metadata().get("guidance_scale"));
            assertEquals("embeds.safetensors", f.metadata().get("text_embeds"));
        }
    }

    /**
     * --mixed_precision bf16 runs the DiT's activations in bf16 (upstream's autocast): the sample_tiny latent moves by
     * bf16 rounding, not more, and the output records it; the CPU default stays fp32 (the golden bytes above).
     */
    @Test
    void bf16ActivationsStayNearTheFp32SampleAndAreRecorded() throws Exception {
        CliRun f32 = generate("f", "--latent_noise", noise.toString(), "--seed", "0");
        CliRun bf16 = generate("h", "--latent_noise", noise.toString(), "--seed", "0", "--mixed_precision", "bf16");
        assertEquals(0, f32.code(), f32.err());
        assertEquals(0, bf16.code(), bf16.err());
        try (SafetensorsFile a = SafetensorsFile.open(only(f32, "_latent.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(only(bf16, "_latent.safetensors"))) {
            double[] x = a.tensor("latent").toDoubleArray();
            double[] y = b.tensor("latent").toDoubleArray();
            double max = MaxAbs.ofDifference(x, y);
            double scale = MaxAbs.of(x);
            System.out.printf("generate: bf16 vs fp32 activations, max |latent difference| %.3g of max |latent| %.3g%n", max, scale);
            assertTrue(max > 0, "bf16 activations changed nothing");
            assertTrue(max < 0.01 * scale, "bf16 activations moved the latent by " + max + " (max |latent| " + scale + ")");
            assertEquals(null, a.metadata().get("activations"));
            assertEquals("bf16", b.metadata().get("activations"));
        }
        CliRun bad = generate("x", "--mixed_precision", "fp8");
        assertEquals(1, bad.code(), bad.err());
        assertTrue(bad.err().contains("--mixed_precision must be no, fp16 or bf16, got 'fp8'"), bad.err());
    }

    @Test
    void latentNoiseGivesSampleTinysResultAndPngsParse() throws Exception {
        CliRun r = generate("n", "--latent_noise", noise.toString(), "--output_type", "latent_images", "--seed", "0");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(only(r, "_latent.safetensors"));
             SafetensorsFile want = SafetensorsFile.open(golden("sample_tiny.safetensors"))) {
            double[] a = got.tensor("latent").toDoubleArray();
            double[] b = want.tensor("unipc.final").toDoubleArray();
            for (int i = 0; i < b.length; i++) {
                assertEquals(b[i], a[i], 1e-4 + 1e-4 * Math.abs(b[i]), "latent[" + i + "]");
            }
        }
        BufferedImage img = ImageIO.read(only(r, "_000.png").toFile());
        assertNotNull(img);
        assertEquals(48, img.getWidth());
        assertEquals(32, img.getHeight());
    }

    /** Two LORAIDs applied as adapters give the latent of the model merged by 'loraid merge'. */
    @Test
    void loraidsAsAdaptersMatchTheMergedModel() throws Exception {
        Path merged = dir.resolve("merged.safetensors");
        CliRun m = CliRun.run("merge", "--quiet", "--dit", golden("wan_tiny_weights.safetensors").toString(), "--lora_weight",
                golden("lora_id1.safetensors").toString(), golden("lora_id2.safetensors").toString(), "--LORAID", "1", "2",
                "--lora_multiplier", "1.0", "0.7", "--blocks_per_loraid", "2", "--save_merged_model", merged.toString());
        assertEquals(0, m.code(), m.err());
        // generate --save_merged_model is the same merge (upstream's way to bake LoRAs in), then exits
        Path viaGenerate = dir.resolve("merged_by_generate.safetensors");
        CliRun g = generate("none", "--lora_weight", golden("lora_id1.safetensors").toString(), golden("lora_id2.safetensors").toString(),
                "--LORAID", "1", "2", "--lora_multiplier", "1.0", "0.7", "--blocks_per_loraid", "2", "--save_merged_model",
                viaGenerate.toString());
        assertEquals(0, g.code(), g.err());
        try (SafetensorsFile a = SafetensorsFile.open(merged); SafetensorsFile b = SafetensorsFile.open(viaGenerate)) {
            assertEquals(a.names(), b.names());
            for (String n : a.names()) {
                assertArrayEquals(a.tensor(n).toDoubleArray(), b.tensor(n).toDoubleArray(), 0.0, n);
            }
        }
        assertFalse(Files.exists(dir.resolve("none")), "no sampling output with --save_merged_model");
        CliRun adapted = generate("lora", "--seed", "5", "--lora_weight", golden("lora_id1.safetensors").toString(),
                golden("lora_id2.safetensors").toString(), "--LORAID", "1", "2", "--lora_multiplier", "1.0", "0.7",
                "--blocks_per_loraid", "2");
        assertEquals(0, adapted.code(), adapted.err());
        CliRun onMerged = generate("merged_out", "--dit", merged.toString(), "--seed", "5");
        assertEquals(0, onMerged.code(), onMerged.err());
        try (SafetensorsFile a = SafetensorsFile.open(only(adapted, "_latent.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(only(onMerged, "_latent.safetensors"))) {
            double[] x = a.tensor("latent").toDoubleArray();
            double[] y = b.tensor("latent").toDoubleArray();
            double max = 0;
            for (int i = 0; i < x.length; i++) {
                max = Math.max(max, Math.abs(x[i] - y[i]));
            }
            System.out.printf("generate: adapters vs merged model, max |latent difference| %.3g%n", max);
            assertTrue(max < 1e-5, "max difference " + max);
        }
    }

    /**
     * --interactive: prompts from standard input, one per line, generated with the models loaded once; a line gives the
     * latent --prompt with the same settings gives; a bad line is reported and skipped; blank lines are passed over.
     */
    @Test
    void interactivePromptsComeFromStandardInput() throws Exception {
        String[] encoder = {"--t5", golden("umt5_tiny_weights.safetensors").toString(), "--tokenizer",
                golden("spm_tiny_tokenizer.json").toString()};
        java.io.InputStream stdin = System.in;
        CliRun session;
        try {
            System.setIn(new java.io.ByteArrayInputStream("a red ball --d 5\n\n   \nbroken --w wide\na blue cube --d 6 --s 4\n"
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            List<String> args = new ArrayList<>(List.of("generate", "--task", "tiny", "--dit",
                    golden("wan_tiny_weights.safetensors").toString(), "--video_size", "32", "48", "--video_length", "1",
                    "--infer_steps", "8", "--flow_shift", "5", "--guidance_scale", "4", "--output_type", "latent",
                    "--save_path", dir.resolve("session").toString(), "--interactive"));
            args.addAll(List.of(encoder));
            session = CliRun.run(args.toArray(String[]::new));
        } finally {
            System.setIn(stdin);
        }
        assertEquals(0, session.code(), session.err());
        List<Path> latents = session.out().lines().map(Path::of).filter(p -> p.toString().endsWith("_latent.safetensors")).toList();
        assertEquals(2, latents.size(), session.out() + session.err());
        assertTrue(session.err().contains("stdin:4: ") && session.err().contains("width"), session.err());
        assertFalse(session.err().contains("stdin:4: stdin:4:"), "the line named once: " + session.err());
        List<String> alone = new ArrayList<>(List.of("generate", "--task", "tiny", "--dit",
                golden("wan_tiny_weights.safetensors").toString(), "--video_size", "32", "48", "--video_length", "1",
                "--infer_steps", "8", "--flow_shift", "5", "--guidance_scale", "4", "--output_type", "latent", "--quiet",
                "--save_path", dir.resolve("alone").toString(), "--prompt", "a red ball", "--seed", "5"));
        alone.addAll(List.of(encoder));
        CliRun single = CliRun.run(alone.toArray(String[]::new));
        assertEquals(0, single.code(), single.err());
        try (SafetensorsFile a = SafetensorsFile.open(latents.getFirst());
             SafetensorsFile b = SafetensorsFile.open(only(single, "_latent.safetensors"))) {
            assertArrayEquals(b.tensor("latent").toDoubleArray(), a.tensor("latent").toDoubleArray(), 0.0);
            assertEquals("a red ball", a.metadata().get("prompt"));
        }
        CliRun both = generate("x", "--interactive", "--prompt", "p");
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().contains("--interactive and --prompt exclude each other"), both.err());
    }

    /**
     * --lycoris: a LoKr module (whole factors) and a LoHa module merged into the tiny DiT at load give the latent of the
     * DiT whose two weights were updated here by hand (Kronecker and Hadamard products written out, at multiplier 0.8);
     * with --fp8 the updates are merged before quantisation; with LORAID ids it is refused.
     */
    @Test
    void lycorisFilesAreMergedAtLoad() throws Exception {
        java.util.SplittableRandom r = new java.util.SplittableRandom(9);
        java.util.function.BiFunction<Integer, Integer, double[]> random = (rows, cols) -> {
            double[] v = new double[rows * cols];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextDouble(-0.05, 0.05);
            }
            return v;
        };
        double[] w1 = random.apply(8, 8);
        double[] w2 = random.apply(8, 8);
        double[] h1a = random.apply(128, 2);
        double[] h1b = random.apply(2, 64);
        double[] h2a = random.apply(128, 2);
        double[] h2b = random.apply(2, 64);
        String q = "lora_unet_blocks_0_self_attn_q";
        String ffn = "lora_unet_blocks_1_ffn_0";
        Map<String, dev.loraid.tensor.Tensor> lycoris = new java.util.TreeMap<>();
        lycoris.put(q + ".lokr_w1", dev.loraid.tensor.Tensor.ofDoubles(w1, 8, 8).to(dev.loraid.tensor.DType.F32));
        lycoris.put(q + ".lokr_w2", dev.loraid.tensor.Tensor.ofDoubles(w2, 8, 8).to(dev.loraid.tensor.DType.F32));
        lycoris.put(q + ".alpha", dev.loraid.tensor.Tensor.ofDoubles(new double[] {8}).to(dev.loraid.tensor.DType.F32));
        lycoris.put(ffn + ".hada_w1_a", dev.loraid.tensor.Tensor.ofDoubles(h1a, 128, 2).to(dev.loraid.tensor.DType.F32));
        lycoris.put(ffn + ".hada_w1_b", dev.loraid.tensor.Tensor.ofDoubles(h1b, 2, 64).to(dev.loraid.tensor.DType.F32));
        lycoris.put(ffn + ".hada_w2_a", dev.loraid.tensor.Tensor.ofDoubles(h2a, 128, 2).to(dev.loraid.tensor.DType.F32));
        lycoris.put(ffn + ".hada_w2_b", dev.loraid.tensor.Tensor.ofDoubles(h2b, 2, 64).to(dev.loraid.tensor.DType.F32));
        lycoris.put(ffn + ".alpha", dev.loraid.tensor.Tensor.ofDoubles(new double[] {1}).to(dev.loraid.tensor.DType.F32));
        Path file = dir.resolve("lokr.safetensors");
        SafetensorsWriter.write(file, lycoris, Map.of());

        Map<String, dev.loraid.tensor.Tensor> weights = new java.util.LinkedHashMap<>();
        try (SafetensorsFile base = SafetensorsFile.open(golden("wan_tiny_weights.safetensors"))) {
            for (String n : base.names()) {
                weights.put(n, base.tensor(n).copy());
            }
        }
        double m = 0.8;
        double[] wq = weights.get("blocks.0.self_attn.q.weight").toDoubleArray(); // [64, 64] = kron([8, 8], [8, 8])
        for (int i = 0; i < 8; i++) {
            for (int k = 0; k < 8; k++) {
                for (int j = 0; j < 8; j++) {
                    for (int l = 0; l < 8; l++) {
                        wq[(i * 8 + k) * 64 + j * 8 + l] += m * w1[i * 8 + j] * w2[k * 8 + l]; // whole factors: scale 1
                    }
                }
            }
        }
        double[] wf = weights.get("blocks.1.ffn.0.weight").toDoubleArray(); // [128, 64]
        for (int o = 0; o < 128; o++) {
            for (int i = 0; i < 64; i++) {
                double a = 0;
                double b = 0;
                for (int c = 0; c < 2; c++) {
                    a += h1a[o * 2 + c] * h1b[c * 64 + i];
                    b += h2a[o * 2 + c] * h2b[c * 64 + i];
                }
                wf[o * 64 + i] += m * a * b * (1.0 / 2); // alpha 1 over rank 2
            }
        }
        dev.loraid.tensor.DType dtype = weights.get("blocks.0.self_attn.q.weight").dtype();
        weights.put("blocks.0.self_attn.q.weight", dev.loraid.tensor.Tensor.ofDoubles(wq, 64, 64).to(dtype));
        weights.put("blocks.1.ffn.0.weight", dev.loraid.tensor.Tensor.ofDoubles(wf, 128, 64).to(dtype));
        Path merged = dir.resolve("merged_by_hand.safetensors");
        SafetensorsWriter.write(merged, weights, Map.of());

        CliRun viaLycoris = generate("lycoris", "--seed", "5", "--lycoris", "--lora_weight", file.toString(), "--lora_multiplier",
                "0.8");
        assertEquals(0, viaLycoris.code(), viaLycoris.err());
        CliRun byHand = generate("by_hand", "--dit", merged.toString(), "--seed", "5");
        assertEquals(0, byHand.code(), byHand.err());
        CliRun plain = generate("plain", "--seed", "5");
        // without --lycoris too, as upstream: a file with LoHa/LoKr tensors is merged at load
        CliRun detected = generate("detected", "--seed", "5", "--lora_weight", file.toString(), "--lora_multiplier", "0.8");
        assertEquals(0, detected.code(), detected.err());
        try (SafetensorsFile a = SafetensorsFile.open(only(viaLycoris, "_latent.safetensors"));
             SafetensorsFile d = SafetensorsFile.open(only(detected, "_latent.safetensors"))) {
            assertArrayEquals(a.tensor("latent").toDoubleArray(), d.tensor("latent").toDoubleArray(), 0.0);
        }
        try (SafetensorsFile a = SafetensorsFile.open(only(viaLycoris, "_latent.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(only(byHand, "_latent.safetensors"));
             SafetensorsFile c = SafetensorsFile.open(only(plain, "_latent.safetensors"))) {
            assertArrayEquals(b.tensor("latent").toDoubleArray(), a.tensor("latent").toDoubleArray(), 1e-5);
            assertFalse(java.util.Arrays.equals(c.tensor("latent").toDoubleArray(), a.tensor("latent").toDoubleArray()),
                    "the LyCORIS file changes the video");
            assertEquals("true", a.metadata().get("lycoris"));
        }
        // --save_merged_model writes that DiT: every tensor equal to the hand-merged file's
        Path saved = dir.resolve("saved_lycoris.safetensors");
        CliRun save = generate("none", "--lycoris", "--lora_weight", file.toString(), "--lora_multiplier", "0.8",
                "--save_merged_model", saved.toString());
        assertEquals(0, save.code(), save.err());
        try (SafetensorsFile a = SafetensorsFile.open(saved); SafetensorsFile b = SafetensorsFile.open(merged)) {
            assertEquals(new java.util.TreeSet<>(b.names()), new java.util.TreeSet<>(a.names()));
            for (String n : b.names()) {
                assertArrayEquals(b.tensor(n).toDoubleArray(), a.tensor(n).toDoubleArray(), 1e-6, n);
            }
            assertEquals("lokr.safetensors@0.8", a.metadata().get("lycoris_merged"));
        }
        // loraid merge --lycoris writes the same file
        Path viaMerge = dir.resolve("merge_lycoris.safetensors");
        CliRun merge = CliRun.run("merge", "--quiet", "--lycoris", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--lora_weight", file.toString(), "--lora_multiplier", "0.8", "--save_merged_model", viaMerge.toString());
        assertEquals(0, merge.code(), merge.err());
        assertArrayEquals(Files.readAllBytes(saved), Files.readAllBytes(viaMerge));
        // and without --lycoris: a file with LoHa/LoKr tensors takes that way by itself
        Path detectedMerge = dir.resolve("merge_detected.safetensors");
        CliRun detectedRun = CliRun.run("merge", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--lora_weight", file.toString(), "--lora_multiplier", "0.8", "--save_merged_model", detectedMerge.toString());
        assertEquals(0, detectedRun.code(), detectedRun.err());
        assertTrue(detectedRun.err().contains("lokr.safetensors holds LoHa/LoKr/full tensors"), detectedRun.err());
        assertArrayEquals(Files.readAllBytes(saved), Files.readAllBytes(detectedMerge));
        CliRun twoValues = CliRun.run("merge", "--lycoris", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--lora_weight", file.toString(), "--lora_multiplier", "0.8", "0.5", "--save_merged_model", viaMerge.toString());
        assertEquals(2, twoValues.code(), twoValues.err());
        assertTrue(twoValues.err().contains("2 multipliers for 1 LyCORIS files"), twoValues.err());
        // with --fp8 the updates are merged before the weights are quantised (as upstream): the hand-merged DiT quantised
        // the same way gives the same latent
        CliRun fp8 = generate("fp8", "--seed", "5", "--lycoris", "--lora_weight", file.toString(), "--lora_multiplier", "0.8",
                "--fp8", "--fp8_scaled");
        assertEquals(0, fp8.code(), fp8.err());
        CliRun fp8ByHand = generate("fp8_by_hand", "--dit", merged.toString(), "--seed", "5", "--fp8", "--fp8_scaled");
        assertEquals(0, fp8ByHand.code(), fp8ByHand.err());
        try (SafetensorsFile a = SafetensorsFile.open(only(fp8, "_latent.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(only(fp8ByHand, "_latent.safetensors"));
             SafetensorsFile c = SafetensorsFile.open(only(viaLycoris, "_latent.safetensors"))) {
            // 7e-7 apart here; fp8 itself moves the latent by about 1e-2, so a merge after quantisation would fail this
            assertArrayEquals(b.tensor("latent").toDoubleArray(), a.tensor("latent").toDoubleArray(), 1e-5);
            assertFalse(java.util.Arrays.equals(c.tensor("latent").toDoubleArray(), a.tensor("latent").toDoubleArray()),
                    "fp8 weights move the latent");
        }
        CliRun ids = generate("ids", "--lycoris", "--lora_weight", file.toString(), "--LORAID", "1");
        assertEquals(2, ids.code(), ids.err());
        assertTrue(ids.err().contains("--lycoris merges whole files"), ids.err());
    }

    /**
     * tiny-A14B (the tiny DiT as low-noise expert, with lora_tiny merged in as the high-noise one): the same latent with
     * both experts resident, with the inactive one offloaded and with lazy loading; per-file key patterns are checked.
     */
    @Test
    void dualExpertResidencyFlagsGiveTheSameLatent() throws Exception {
        Path high = dir.resolve("high.safetensors");
        CliRun m = CliRun.run("merge", "--quiet", "--dit", golden("wan_tiny_weights.safetensors").toString(), "--lora_weight",
                golden("lora_tiny.safetensors").toString(), "--save_merged_model", high.toString());
        assertEquals(0, m.code(), m.err());
        String[] dual = {"--task", "tiny-A14B", "--dit_high_noise", high.toString(), "--seed", "8", "--lora_weight",
                golden("lora_id1.safetensors").toString(), golden("lora_id2.safetensors").toString(), "--include_patterns",
                "blocks_0_", "_ffn_"};
        double[] both = null;
        for (String flag : new String[] {"--quiet", "--offload_inactive_dit", "--lazy_loading"}) {
            CliRun r = generate(flag.substring(2), concat(dual, flag));
            assertEquals(0, r.code(), r.err());
            double[] latent;
            try (SafetensorsFile f = SafetensorsFile.open(only(r, "_latent.safetensors"))) {
                latent = f.tensor("latent").toDoubleArray();
                assertEquals("lora_id1.safetensors lora_id2.safetensors", Arrays.stream(f.metadata().get("lora_weight").split(" "))
                        .map(p -> Path.of(p).getFileName().toString()).collect(java.util.stream.Collectors.joining(" ")));
            }
            if (both == null) {
                both = latent;
            } else {
                assertArrayEquals(both, latent, 0.0, flag);
            }
        }
        CliRun twice = generate("x", concat(dual, "--offload_inactive_dit", "--lazy_loading"));
        assertEquals(2, twice.code());
        assertTrue(twice.err().contains("--offload_inactive_dit and --lazy_loading exclude each other"), twice.err());
        CliRun single = generate("x", "--lazy_loading");
        assertEquals(2, single.code());
        assertTrue(single.err().contains("--lazy_loading needs two experts (--dit_high_noise)"), single.err());
        CliRun three = generate("x", concat(dual, "--include_patterns", "blocks_1_"));
        assertEquals(2, three.code());
        assertTrue(three.err().contains("--include_patterns: 3 patterns for 2 LoRA files: give none, one for every file, "
                + "or one per file in file order"), three.err());
        CliRun regex = generate("x", "--lora_weight", golden("lora_id1.safetensors").toString(), "--exclude_patterns", "(");
        assertEquals(2, regex.code());
        assertTrue(regex.err().contains("--exclude_patterns '(' is not a valid regular expression"), regex.err());
    }

    /**
     * --fp8 / --fp8_scaled quantise the block weights at load: the latent moves a little, the metadata says so;
     * --blocks_to_swap moves weights only: the same latent.
     */
    @Test
    void fp8AtLoadStaysNearTheFullPrecisionLatent() throws Exception {
        double[] full;
        try (SafetensorsFile f = SafetensorsFile.open(only(generate("full", "--seed", "3"), "_latent.safetensors"))) {
            full = f.tensor("latent").toDoubleArray();
        }
        for (String[] flags : new String[][] {{"--fp8"}, {"--fp8", "--fp8_scaled"}}) {
            CliRun r = generate("fp8" + flags.length, concat(flags, "--seed", "3"));
            assertEquals(0, r.code(), r.err());
            try (SafetensorsFile f = SafetensorsFile.open(only(r, "_latent.safetensors"))) {
                double[] got = f.tensor("latent").toDoubleArray();
                double num = 0;
                double den = 0;
                for (int i = 0; i < got.length; i++) {
                    num += (got[i] - full[i]) * (got[i] - full[i]);
                    den += full[i] * full[i];
                }
                double rel = Math.sqrt(num / den);
                System.out.printf("generate %s: relative L2 distance to the full-precision latent %.4f%n", String.join(" ", flags), rel);
                assertTrue(rel > 0 && rel < 0.02, "relative distance " + rel);  // measured 0.0039 (cast), 0.0042 (scaled)
                assertEquals(flags.length == 2 ? "scaled" : "cast", f.metadata().get("fp8"));
            }
        }
        CliRun compat = generate("compat", "--seed", "3", "--attn_mode", "sdpa", "--vae_cache_cpu");
        assertEquals(0, compat.code(), compat.err());
        try (SafetensorsFile f = SafetensorsFile.open(only(compat, "_latent.safetensors"))) {
            assertArrayEquals(full, f.tensor("latent").toDoubleArray(), 0.0, "upstream flags without effect change nothing");
        }
        CliRun swapped = generate("swap", "--seed", "3", "--blocks_to_swap", "2");
        assertEquals(0, swapped.code(), swapped.err());
        try (SafetensorsFile f = SafetensorsFile.open(only(swapped, "_latent.safetensors"))) {
            assertArrayEquals(full, f.tensor("latent").toDoubleArray(), 0.0, "2 of 4 blocks swapped in: the same latent");
        }
        CliRun swap = generate("x", "--blocks_to_swap", "10");
        assertEquals(1, swap.code());
        assertTrue(swap.err().contains("--blocks_to_swap is 10: the model has 4 blocks, so at most 3"), swap.err());
        CliRun scaledAlone = generate("x", "--fp8_scaled");
        assertEquals(2, scaledAlone.code());
        assertTrue(scaledAlone.err().contains("--fp8_scaled needs --fp8"), scaledAlone.err());
    }

    @Test
    void refusedFlagsAndBadValuesAreUsageErrors() {
        CliRun p = generate("x", "--prompt", "a cat");
        assertEquals(2, p.code());
        assertTrue(p.err().contains("--prompt and --text_embeds exclude each other"), p.err());
        CliRun v = generate("x", "--output_type", "mkv");
        assertEquals(2, v.code());
        assertTrue(v.err().contains("output type 'mkv' is not supported (supported: video, images, latent, both, "
                + "latent_images)"), v.err());
        CliRun fps = generate("x", "--output_type", "video", "--fps", "0");
        assertEquals(2, fps.code());
        assertTrue(fps.err().contains("--fps must be in [1, 1000]"), fps.err());
        CliRun s = generate("x", "--sample_solver", "ddim");
        assertEquals(2, s.code());
        assertTrue(s.err().contains("unknown solver 'ddim'"), s.err());
        CliRun merged = generate("x", "--save_merged_model", "out.safetensors");
        assertEquals(2, merged.code());
        assertTrue(merged.err().contains("--save_merged_model needs --lora_weight"), merged.err());
        CliRun slg = generate("x", "--slg_mode", "original");
        assertEquals(2, slg.code());
        assertTrue(slg.err().contains("--slg_mode needs --slg_layers"), slg.err());
    }

    @Test
    void aPromptGoesThroughTheJavaTokenizerAndUmt5() throws Exception {
        String prompt = "a small blue circle";
        Path t5 = golden("umt5_tiny_weights.safetensors");
        Path tokenizer = golden("spm_tiny_tokenizer.json");
        List<String> args = new ArrayList<>(List.of("generate", "--task", "tiny", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--prompt", prompt, "--negative_prompt", "blurry", "--t5", t5.toString(), "--tokenizer", tokenizer.toString(),
                "--video_size", "32", "48", "--video_length", "1", "--infer_steps", "4", "--seed", "9", "--quiet", "--output_type",
                "latent", "--save_path", dir.resolve("p").toString()));
        CliRun viaPrompt = CliRun.run(args.toArray(String[]::new));
        assertEquals(0, viaPrompt.code(), viaPrompt.err());
        // the same conditioning computed here with the tokenizer and encoder directly, handed over as --text_embeds
        Path direct = dir.resolve("direct.safetensors");
        try (dev.loraid.wan.text.Umt5Checkpoint ck = dev.loraid.wan.text.Umt5Checkpoint.open(t5)) {
            dev.loraid.wan.text.Umt5Tokenizer tok = dev.loraid.wan.text.Umt5Tokenizer.load(tokenizer);
            dev.loraid.wan.text.Umt5Encoder enc = ck.model();
            SafetensorsWriter.write(direct, Map.of("context", enc.encode(tok.encodeWan(prompt, 8)).copy(),
                    "context_null", enc.encode(tok.encodeWan("blurry", 8)).copy()), Map.of());
        }
        CliRun viaEmbeds = CliRun.run("generate", "--task", "tiny", "--dit", golden("wan_tiny_weights.safetensors").toString(),
                "--text_embeds", direct.toString(), "--video_size", "32", "48", "--video_length", "1", "--infer_steps", "4", "--seed",
                "9", "--quiet", "--output_type", "latent", "--save_path", dir.resolve("e").toString());
        assertEquals(0, viaEmbeds.code(), viaEmbeds.err());
        try (SafetensorsFile a = SafetensorsFile.open(only(viaPrompt, "_latent.safetensors"));
                SafetensorsFile b = SafetensorsFile.open(only(viaEmbeds, "_latent.safetensors"))) {
            assertArrayEquals(b.tensor("latent").toDoubleArray(), a.tensor("latent").toDoubleArray(), 0.0);
            assertEquals(prompt, a.metadata().get("prompt"));
        }
    }

    @Test
    void latentPathDecodesThroughTheVaeToTheGoldenFrames() throws Exception {
        // the golden tiny VAE case: dec_input_latent (normalised) → decoded [3, 9, 16, 16] in [-1, 1]
        Path latent = dir.resolve("x_latent.safetensors");
        Path stats = dir.resolve("stats.safetensors");
        float[] expected;
        try (SafetensorsFile f = SafetensorsFile.open(golden("vae_tiny_forward.safetensors"))) {
            SafetensorsWriter.write(latent, Map.of("latent", f.tensor("dec_input_latent").copy()), Map.of("seeds", "77"));
            SafetensorsWriter.write(stats, Map.of("latents_mean", f.tensor("latents_mean").copy(), "latents_std",
                    f.tensor("latents_std").copy()), Map.of());
            expected = f.tensor("decoded").toFloatArray();
        }
        CliRun r = CliRun.run("generate", "--task", "tiny", "--latent_path", latent.toString(), "--vae",
                golden("vae_tiny_weights.safetensors").toString(), "--vae_latent_stats", stats.toString(), "--quiet", "--save_path",
                dir.resolve("dec").toString());
        assertEquals(0, r.code(), r.err());
        List<Path> pngs = r.out().lines().map(Path::of).sorted().toList();
        assertEquals(9, pngs.size(), r.out());
        assertTrue(pngs.getFirst().getFileName().toString().contains("_77_000.png"), pngs.toString());
        for (int f = 0; f < 9; f++) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(pngs.get(f).toFile());
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    int rgb = img.getRGB(x, y);
                    for (int c = 0; c < 3; c++) {
                        int got = (rgb >> (16 - 8 * c)) & 255;
                        double want = (expected[((c * 9 + f) * 16 + y) * 16 + x] + 1) * 127.5;
                        assertTrue(Math.abs(got - want) <= 0.5 + 1e-3, "frame " + f + " (" + x + ", " + y + ") channel " + c
                                + ": " + got + " vs " + want);
                    }
                }
            }
        }
    }

    @Test
    void slgAndCfgSkipRun() throws Exception {
        CliRun r = generate("slg", "--seed", "1", "--slg_layers", "1,2", "--slg_mode", "original", "--slg_end", "0.5",
                "--cfg_skip_mode", "late", "--cfg_apply_ratio", "0.75", "--sample_solver", "dpm++");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(only(r, "_latent.safetensors"))) {
            assertEquals("1,2", f.metadata().get("slg_layers"));
            assertEquals("late", f.metadata().get("cfg_skip_mode"));
            assertEquals("dpm++", f.metadata().get("sample_solver"));
        }
    }

    private Path vaeStats() throws Exception {
        Path stats = dir.resolve("vae_stats.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(golden("vae_tiny_forward.safetensors"))) {
            SafetensorsWriter.write(stats, Map.of("latents_mean", f.tensor("latents_mean").copy(), "latents_std",
                    f.tensor("latents_std").copy()), Map.of());
        }
        return stats;
    }

    /** --output_type both: the latent and an MP4 of the VAE-decoded frames whose first frame looks like the PNG's. */
    @Test
    void videoOfTheVaeFramesMatchesThePngs() throws Exception {
        Path stats = vaeStats();
        String[] vae = {"--vae", golden("vae_tiny_weights.safetensors").toString(), "--vae_latent_stats", stats.toString(),
            "--video_length", "5", "--seed", "21"};
        CliRun both = generate("v", concat(vae, "--output_type", "both", "--fps", "8"));
        assertEquals(0, both.code(), both.err());
        Path mp4 = only(both, ".mp4");
        only(both, "_latent.safetensors");
        assertTrue(mp4.getFileName().toString().matches("\\d{8}-\\d{6}-\\d{3}_21\\.mp4"), mp4.toString());
        CliRun pngs = generate("i", concat(vae, "--output_type", "images"));
        assertEquals(0, pngs.code(), pngs.err());
        List<Path> frames = pngs.out().lines().map(Path::of).sorted().toList();
        assertEquals(5, frames.size(), pngs.out());
        // --trim_tail_frames 2: the first three of the same frames, byte for byte
        CliRun trimmed = generate("t", concat(vae, "--output_type", "images", "--trim_tail_frames", "2"));
        assertEquals(0, trimmed.code(), trimmed.err());
        List<Path> kept = trimmed.out().lines().map(Path::of).sorted().toList();
        assertEquals(3, kept.size(), trimmed.out());
        for (int i = 0; i < 3; i++) {
            BufferedImage a = ImageIO.read(frames.get(i).toFile());
            BufferedImage b = ImageIO.read(kept.get(i).toFile());
            assertArrayEquals(a.getRGB(0, 0, a.getWidth(), a.getHeight(), null, 0, a.getWidth()),
                    b.getRGB(0, 0, b.getWidth(), b.getHeight(), null, 0, b.getWidth()), "frame " + i);
        }
        CliRun all = generate("u", concat(vae, "--output_type", "images", "--trim_tail_frames", "5"));
        assertEquals(1, all.code(), all.err());
        assertTrue(all.err().contains("trimming 5 tail frames leaves none of the 5 decoded frames"), all.err());

        List<double[]> means = new ArrayList<>();
        try (org.jcodec.common.io.SeekableByteChannel ch = org.jcodec.common.io.NIOUtils.readableChannel(mp4.toFile())) {
            org.jcodec.api.FrameGrab grab = org.jcodec.api.FrameGrab.createFrameGrab(ch);
            assertEquals(8.0, grab.getVideoTrack().getMeta().getTotalFrames() / grab.getVideoTrack().getMeta().getTotalDuration(),
                    1e-9, "fps");
            org.jcodec.common.model.Picture p;
            while ((p = grab.getNativeFrame()) != null) {
                assertEquals(48, p.getCroppedWidth());
                assertEquals(32, p.getCroppedHeight());
                means.add(meanRgb(p));
            }
        }
        assertEquals(5, means.size(), "decoded frames");
        BufferedImage png = ImageIO.read(frames.getFirst().toFile());
        double[] want = new double[3];
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 48; x++) {
                int rgb = png.getRGB(x, y);
                for (int c = 0; c < 3; c++) {
                    want[c] += ((rgb >> (16 - 8 * c)) & 255) / (32.0 * 48);
                }
            }
        }
        for (int c = 0; c < 3; c++) {
            System.out.printf("generate video: frame 0 channel %d mean %.2f (mp4) vs %.2f (png)%n", c, means.getFirst()[c], want[c]);
            assertEquals(want[c], means.getFirst()[c], 3.0, "frame 0 mean of channel " + c);
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The decoded picture's mean RGB, BT.601 limited range (what the writer encodes and the decoder reports). */
    private static double[] meanRgb(org.jcodec.common.model.Picture p) {
        int w = p.getCroppedWidth();
        int h = p.getCroppedHeight();
        double[] sum = new double[3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double l = 1.164383 * (p.getPlaneData(0)[y * p.getPlaneWidth(0) + x] + 128 - 16);
                double u = p.getPlaneData(1)[(y >> 1) * p.getPlaneWidth(1) + (x >> 1)];
                double v = p.getPlaneData(2)[(y >> 1) * p.getPlaneWidth(2) + (x >> 1)];
                sum[0] += Math.max(0, Math.min(255, l + 1.596027 * v)) / (w * h);
                sum[1] += Math.max(0, Math.min(255, l - 0.391762 * u - 0.812968 * v)) / (w * h);
                sum[2] += Math.max(0, Math.min(255, l + 2.017232 * u)) / (w * h);
            }
        }
        return sum;
    }

    private List<String> promptArgs(String out, String... more) {
        List<String> args = new ArrayList<>(List.of("generate", "--task", "tiny", "--dit",
                golden("wan_tiny_weights.safetensors").toString(), "--t5", golden("umt5_tiny_weights.safetensors").toString(),
                "--tokenizer", golden("spm_tiny_tokenizer.json").toString(), "--video_size", "32", "48", "--video_length", "1",
                "--quiet", "--save_path", dir.resolve(out).toString()));
        args.addAll(List.of(more));
        return args;
    }

    /** --from_file: one latent per line, each line's options over the command line's, equal to the single-prompt run. */
    @Test
    void fromFileRunsEachLineWithItsOverrides() throws Exception {
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, """
                # two prompts
                a small blue circle --d 3 --s 3
                a red square --d 4 --n blurry --l 3.5 --f 5 --w 64 --fs 2
                """);
        CliRun batch = CliRun.run(promptArgs("batch", "--from_file", prompts.toString(), "--output_type", "latent",
                "--guidance_scale", "4", "--negative_prompt", "ugly", "--infer_steps", "4").toArray(String[]::new));
        assertEquals(0, batch.code(), batch.err());
        Path first = only(batch, "_3_latent.safetensors");
        Path second = only(batch, "_4_latent.safetensors");
        try (SafetensorsFile a = SafetensorsFile.open(first); SafetensorsFile b = SafetensorsFile.open(second)) {
            assertEquals("a small blue circle", a.metadata().get("prompt"));
            assertEquals("ugly", a.metadata().get("negative_prompt"));
            assertEquals("3", a.metadata().get("infer_steps"));
            assertEquals("4.0", a.metadata().get("guidance_scale"));
            assertEquals("prompts.txt:2", a.metadata().get("from_file_entry"));
            assertEquals("blurry", b.metadata().get("negative_prompt"));
            assertEquals("3.5", b.metadata().get("guidance_scale"));
            assertEquals("4", b.metadata().get("infer_steps"));
            assertEquals("2.0", b.metadata().get("flow_shift"));
            assertArrayEquals(new long[] {4, 2, 4, 8}, b.tensor("latent").shape().toArray());
            // the first line is the same generation as --prompt with the same settings
            CliRun single = CliRun.run(promptArgs("single", "--prompt", "a small blue circle", "--negative_prompt", "ugly",
                    "--seed", "3", "--infer_steps", "3", "--guidance_scale", "4", "--output_type", "latent")
                    .toArray(String[]::new));
            assertEquals(0, single.code(), single.err());
            try (SafetensorsFile s = SafetensorsFile.open(only(single, "_latent.safetensors"))) {
                assertArrayEquals(s.tensor("latent").toDoubleArray(), a.tensor("latent").toDoubleArray(), 0.0);
            }
        }
    }

    @Test
    void fromFileErrorsNameTheLine() throws Exception {
        Path bad = dir.resolve("bad.txt");
        Files.writeString(bad, "fine\na cat --w 50\n");
        CliRun w = CliRun.run(promptArgs("x", "--from_file", bad.toString()).toArray(String[]::new));
        assertEquals(2, w.code());
        assertTrue(w.err().contains("bad.txt:2: video size 32×50"), w.err());
        Path i2v = dir.resolve("i2v.txt");
        Files.writeString(i2v, "a cat --i cat.png\n");
        CliRun i = CliRun.run(promptArgs("x", "--from_file", i2v.toString()).toArray(String[]::new));
        assertEquals(2, i.code());
        assertTrue(i.err().contains("i2v.txt:1: a start image (--i), but --task tiny is text-to-video"), i.err());
        CliRun both = CliRun.run(promptArgs("x", "--from_file", i2v.toString(), "--prompt", "x").toArray(String[]::new));
        assertEquals(2, both.code());
        assertTrue(both.err().contains("--from_file and --prompt exclude each other"), both.err());
    }

    @Test
    void helpListsTheFlagsWithDefaults() {
        CliRun h = CliRun.run("generate", "--help");
        assertEquals(0, h.code());
        for (String s : new String[] {"--sample_solver", "unipc (default)", "--video_size", "default 256 256", "--slg_end",
                "default 0.3", "--text_embeds", "--guidance_scale_high_noise", "--from_file", "--fps", "video (default"}) {
            assertTrue(h.out().contains(s), s + " in\n" + h.out());
        }
    }
}
