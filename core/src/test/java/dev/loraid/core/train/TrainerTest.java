package dev.loraid.core.train;

import dev.loraid.core.lora.NetworkModule;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.testing.Golden;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.lora.LoraWeights;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanTaps;
import dev.loraid.wan.quant.Fp8Load;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer end to end on the golden tiny Wan model and a synthetic cache set (issue 11's tests). */
class TrainerTest {

    /** Collects every step's loss. */
    static class Losses implements TrainListener {
        final List<Double> losses = new ArrayList<>();
        final List<Double> lrs = new ArrayList<>();

        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
        }

        @Override
        public void stepped(Step step) {
            losses.add(step.loss());
            lrs.add(step.lr());
        }

        double mean(int from, int to) {
            return losses.subList(from, to).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        }
    }

    @Test
    void training_lowers_the_loss_and_one_seed_gives_identical_bytes(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 4, 2);
        Losses first = new Losses();
        Trainer.Result a = Trainer.run(TrainFixture.config(toml, dir.resolve("a"), "run", 240, TrainFixture.network(4, null, 12), null,
                null), first);
        assertEquals(240, a.steps());
        assertEquals(240, first.losses.size());
        double start = first.mean(0, 30);
        double end = first.mean(210, 240);
        assertTrue(start / end > 1.5, "mean loss of the first 30 steps " + start + ", of the last 30 " + end);

        Losses second = new Losses();
        Trainer.Result b = Trainer.run(TrainFixture.config(toml, dir.resolve("b"), "run", 240, TrainFixture.network(4, null, 12), null,
                null), second);
        assertEquals(first.losses, second.losses);
        assertSameTensors(a.lora(), b.lora());
    }

    @Test
    void validation_loss_is_fixed_for_a_fixed_model_and_falls_as_the_lora_learns(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 4, 2);
        TrainConfig base = TrainFixture.config(toml, dir.resolve("v"), "v", 120, TrainFixture.network(4, null, 12), null, null);
        TrainConfig c = new TrainConfig(base.dit(), null, null, false, null, toml, base.workingDir(), base.device(), base.mixedPrecision(),
                false, base.network(), base.optimizer(), base.timesteps(), 120, null, 1, base.seed(), base.save(),
                new TrainConfig.Validation(toml, 40), null, null, null, Fp8Load.NONE);
        List<Double> seen = new ArrayList<>();
        TrainListener listener = new Losses() {
            @Override
            public void validated(long step, double valLoss) {
                seen.add(valLoss);
            }
        };
        Trainer.run(c, listener);
        assertEquals(3, seen.size());
        List<String> logged = Files.readAllLines(dir.resolve("v").resolve("v-log.jsonl")).stream().filter(l -> l.contains("val_loss"))
                .toList();
        assertEquals(List.of("{\"step\":40,\"val_loss\":" + seen.get(0) + "}", "{\"step\":80,\"val_loss\":" + seen.get(1) + "}",
                "{\"step\":120,\"val_loss\":" + seen.get(2) + "}"), logged);
        assertTrue(seen.get(2) < seen.get(0), "validation loss " + seen);
        // fixed σ and fixed noise: the same model gives the same number, whatever run it is part of
        try (TrainModels models = TrainModels.open(c, TrainListener.SILENT); TrainModels again = TrainModels.open(c, TrainListener.SILENT)) {
            var data = dev.loraid.core.data.DatasetGroup.open(toml, dir, Reporter.SILENT);
            double v = new ValidationLoss(data, models).loss();
            assertTrue(Double.isFinite(v) && v > 0);
            assertEquals(v, new ValidationLoss(data, again).loss(), 0.0);
        }
    }

    @Test
    void loraid_2_trains_only_its_blocks_and_leaves_the_blocks_before_it_bit_identical(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 4, 2);
        Trainer.Result r = Trainer.run(TrainFixture.config(toml, dir.resolve("out"), "id2", 30, TrainFixture.network(4, 2, 2), null,
                null), TrainListener.SILENT);
        try (SafetensorsFile f = SafetensorsFile.open(r.lora())) {
            assertEquals(2 * 10 * 3, f.names().size());
            for (String n : f.names()) {
                assertTrue(n.startsWith("lora_unet_blocks_2_") || n.startsWith("lora_unet_blocks_3_"), n);
            }
            Map<String, String> m = f.metadata();
            assertEquals("2", m.get("ss_loraid"));
            assertEquals("2", m.get("ss_loraid_block_start"));
            assertEquals("3", m.get("ss_loraid_block_end"));
            assertEquals("4", m.get("ss_loraid_total_blocks"));
            assertEquals("2", m.get("ss_loraid_blocks_per_loraid"));
            assertEquals("30", m.get("ss_steps"));
            assertEquals("networks.lora_wan", m.get("ss_network_module"));
            assertEquals("shift", m.get("ss_timestep_sampling"));
            assertFalse(m.values().stream().anyMatch(String::isEmpty), "no metadata value may be empty");
            // loraid.md REQ-META-2: the upstream keys (ss_vae_name and ss_training_comment only when given)
            for (String k : List.of("ss_network_module", "ss_network_dim", "ss_network_alpha", "ss_network_dropout", "ss_output_name",
                    "ss_base_model_version", "ss_sd_model_name", "ss_training_started_at", "ss_training_finished_at", "ss_session_id",
                    "ss_epoch", "ss_steps", "ss_num_epochs", "ss_max_train_steps", "ss_learning_rate", "ss_lr_scheduler",
                    "ss_lr_warmup_steps", "ss_optimizer", "ss_seed", "ss_mixed_precision", "ss_fp8_base", "ss_gradient_checkpointing",
                    "ss_gradient_accumulation_steps", "ss_max_grad_norm", "ss_timestep_sampling", "ss_discrete_flow_shift",
                    "ss_sigmoid_scale", "ss_weighting_scheme", "ss_logit_mean", "ss_logit_std", "ss_mode_scale", "ss_guidance_scale",
                    "ss_num_train_items", "ss_num_batches_per_epoch", "ss_datasets", "sshs_model_hash", "sshs_legacy_hash",
                    "ss_loraid_include_patterns", "ss_loraid_exclude_patterns")) {
                assertTrue(m.containsKey(k), k + " missing");
            }
            assertEquals("4", m.get("ss_network_dim"));
            assertEquals("4", m.get("ss_num_train_items"));
            assertEquals("2", m.get("ss_num_batches_per_epoch"));
            assertEquals("7", m.get("ss_seed"));
        }
        try (WanCheckpoint ck = WanCheckpoint.open(TrainFixture.TINY, WanPresets.TINY);
                SafetensorsFile golden = SafetensorsFile.open(Golden.path("wan_tiny_forward.safetensors"))) {
            WanModel model = ck.model();
            WanInputs in = WanInputs.of(golden.tensor("x"), golden.tensor("t"), golden.tensor("context"));
            Map<String, Tensor> base = blockOutputs(model, in);
            LoraNetwork net = LoraNetwork.attach(model, LoraWeights.of(LoraFiles.read(r.lora()), Reporter.SILENT), 1.0);
            Map<String, Tensor> with = blockOutputs(model, in);
            net.detach();
            Golden.assertSameBytes("block0.out", base.get("block0.out"), with.get("block0.out"));
            Golden.assertSameBytes("block1.out", base.get("block1.out"), with.get("block1.out"));
            assertFalse(java.util.Arrays.equals(base.get("block2.out").toDoubleArray(), with.get("block2.out").toDoubleArray()),
                    "the trained LoRA changes block 2");
        }
    }

    @Test
    void samples_above_the_boundary_reach_the_high_noise_expert_only(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        // an expert whose output is NaN: any batch routed to it fails the run with a non-finite loss
        Path broken = dir.resolve("broken.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(TrainFixture.TINY)) {
            Map<String, Tensor> t = new HashMap<>();
            for (String n : f.names()) {
                t.put(n, n.equals("head.head.bias") ? Tensor.of(nanArray(f.tensor(n).numel()), f.tensor(n).shape().toArray()) : f.tensor(n));
            }
            // with the config metadata; NaN on purpose, so past the writer's finite check
            ScopedValue.where(dev.loraid.tensor.safetensors.SafetensorsWriter.ALLOW_NON_FINITE, true).call(() -> {
                dev.loraid.tensor.safetensors.SafetensorsWriter.write(broken, t, f.metadata());
                return null;
            });
        }
        TimestepConfig high = new TimestepConfig(TimestepSampling.UNIFORM, 1.0, 1.0, WeightingScheme.NONE, 0, 1, 1.29, 600, 1000,
                false, null);
        TimestepConfig low = new TimestepConfig(TimestepSampling.UNIFORM, 1.0, 1.0, WeightingScheme.NONE, 0, 1, 1.29, 0, 400, false,
                null);
        // timesteps ≥ 601 with boundary 0.5: all high-noise; the low-noise expert (--dit) is broken and never used
        Trainer.run(dual(toml, dir.resolve("h"), broken, TrainFixture.TINY, high), TrainListener.SILENT);
        // timesteps ≤ 401: all low-noise; now the high-noise expert is the broken one
        Trainer.run(dual(toml, dir.resolve("l"), TrainFixture.TINY, broken, low), TrainListener.SILENT);
        // and the broken expert really breaks a run that reaches it
        assertThrows(ArithmeticException.class, () -> Trainer.run(dual(toml, dir.resolve("x"), TrainFixture.TINY, broken, high),
                TrainListener.SILENT));
    }

    @Test
    void i2v_caches_train_through_the_image_branch(@TempDir Path dir) throws Exception {
        Losses losses = new Losses();
        Trainer.Result r = trainI2v(dir, I2vCache.PLAIN, 10, losses);
        assertEquals(10, losses.losses.size());
        try (SafetensorsFile f = SafetensorsFile.open(r.lora())) {
            assertEquals(2 * 12 * 3, f.names().size()); // 12 adapted Linear layers per block: k_img and v_img too
            double[] up = f.tensor("lora_unet_blocks_1_cross_attn_k_img.lora_up.weight").toDoubleArray();
            assertTrue(java.util.Arrays.stream(up).anyMatch(v -> v != 0), "the CLIP branch's LoRA got no gradient");
        }
    }

    /**
     * Fun-Control caches (musubi's latents_control beside latents_image and clip) train through the same tiny DiT (its
     * in_dim 12 is also 4 noise + 4 control + 4 image channels): the control latents reach the model, so the first
     * step's loss differs from the run on the same caches without them (FunControlInputTest checks the input itself).
     */
    @Test
    void fun_control_caches_train_with_their_control_latents(@TempDir Path dir) throws Exception {
        Losses plain = new Losses();
        trainI2v(dir.resolve("plain"), I2vCache.PLAIN, 3, plain);
        Losses control = new Losses();
        trainI2v(dir.resolve("control"), I2vCache.CONTROL, 3, control);
        assertEquals(3, control.losses.size());
        assertTrue(control.losses.stream().allMatch(Double::isFinite), control.losses.toString());
        assertNotEquals(plain.losses.getFirst(), control.losses.getFirst(), "the control latents enter the model");
    }

    /**
     * One-frame caches (upstream's --one_frame: CLIP tokens per control image [1, 257, 1280] and f_indices, which upstream's
     * training does not pass to the DiT) train exactly as the I2V caches holding the same numbers: the same losses.
     */
    @Test
    void one_frame_caches_train_as_the_same_i2v_caches(@TempDir Path dir) throws Exception {
        Losses plain = new Losses();
        trainI2v(dir.resolve("plain"), I2vCache.PLAIN, 3, plain);
        Losses oneFrame = new Losses();
        trainI2v(dir.resolve("one_frame"), I2vCache.ONE_FRAME, 3, oneFrame);
        assertEquals(plain.losses, oneFrame.losses);
    }

    /** What the I2V caches of {@link #trainI2v} hold beside latents, latents_image and clip. */
    private enum I2vCache { PLAIN, CONTROL, ONE_FRAME }

    /** {@code steps} steps on a random tiny Wan 2.1 I2V DiT over two cached clips of the given kind. */
    private static Trainer.Result trainI2v(Path dir, I2vCache kind, int steps, Losses losses) throws Exception {
        // a random tiny Wan 2.1 I2V model (in_dim 12 = 4 noise + 4 mask + 4 image channels, CLIP branch)
        dev.loraid.wan.WanConfig i2v = WanPresets.TINY_I2V;
        java.util.Random rng = new java.util.Random(3);
        Map<String, Tensor> weights = new HashMap<>();
        dev.loraid.wan.WanKeys.expectedShapes(i2v).forEach((k, shape) -> weights.put(k, gaussian(rng, 0.05, shape).to(dev.loraid.tensor.DType.F32)));
        Files.createDirectories(dir);
        Path dit = dir.resolve("tiny_i2v.safetensors");
        dev.loraid.tensor.safetensors.SafetensorsWriter.write(dit, weights, Map.of("config", "{\"num_heads\": 4, \"text_len\": 8, "
                + "\"model_version\": \"2.1\"}"));
        // two cached video clips as upstream's --i2v --clip caching writes them (clip_bfloat16 holds F16 data)
        Path cache = Files.createDirectories(dir.resolve("cache"));
        for (int k = 0; k < 2; k++) {
            Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
            tensors.put("latents_2x4x6_bfloat16", gaussian(rng, 1, 4, 2, 4, 6).to(dev.loraid.tensor.DType.BF16));
            tensors.put("latents_image_2x4x6_bfloat16", gaussian(rng, 1, 8, 2, 4, 6).to(dev.loraid.tensor.DType.BF16));
            Tensor clip = gaussian(rng, 1, 257, 1280).to(dev.loraid.tensor.DType.F16);
            tensors.put("clip_bfloat16", kind == I2vCache.ONE_FRAME ? clip.reshape(1, 257, 1280) : clip);
            Tensor controlLatents = gaussian(rng, 1, 4, 2, 4, 6).to(dev.loraid.tensor.DType.BF16);
            if (kind == I2vCache.CONTROL) {
                tensors.put("latents_control_2x4x6_bfloat16", controlLatents);
            }
            if (kind == I2vCache.ONE_FRAME) {
                tensors.put("f_indices_int32", Tensor.ofLongs(new long[] {0, 5}, 2).to(dev.loraid.tensor.DType.I32));
            }
            dev.loraid.tensor.safetensors.SafetensorsWriter.write(cache.resolve("clip" + k + "_00000-005_0048x0032_wan.safetensors"),
                    tensors, Map.of("architecture", "wan", "width", "48", "height", "32", "frame_count", "5", "format_version", "1.0.1"));
            dev.loraid.tensor.safetensors.SafetensorsWriter.write(cache.resolve("clip" + k + "_wan_te.safetensors"),
                    Map.of("varlen_t5_bfloat16", gaussian(rng, 1, 3, 32).to(dev.loraid.tensor.DType.BF16)), Map.of("architecture", "wan"));
        }
        Path toml = dir.resolve("i2v.toml");
        Files.writeString(toml, "[general]\nresolution = [48, 32]\nenable_bucket = true\n\n[[datasets]]\nvideo_directory = \""
                + dir.resolve("videos") + "\"\ncache_directory = \"" + cache + "\"\ntarget_frames = [5]\n");
        TrainConfig base = TrainFixture.config(toml, dir.resolve("out"), "i2v", steps, TrainFixture.network(4, null, 12), null, null);
        TrainConfig c = new TrainConfig(dit, null, null, false, null, toml, dir, base.device(), base.mixedPrecision(), true,
                base.network(), base.optimizer(), base.timesteps(), steps, null, 1, base.seed(), base.save(), null, null, null, null,
                Fp8Load.NONE);
        return Trainer.run(c, losses);
    }

    /** N(0, sd²) values of shape {@code dims}, F64 on the host. */
    static Tensor gaussian(java.util.Random rng, double sd, long... dims) {
        double[] v = new double[Math.toIntExact(dev.loraid.tensor.Shape.of(dims).numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = sd * rng.nextGaussian();
        }
        return Tensor.ofDoubles(v, dims);
    }

    @Test
    void network_weights_start_a_run_where_a_file_left_off(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        Trainer.Result first = Trainer.run(TrainFixture.config(toml, dir.resolve("a"), "a", 20, TrainFixture.network(4, null, 12), null,
                null), TrainListener.SILENT);
        // --dim_from_weights: rank and alpha come from the file, not from --network_dim 8
        NetworkConfig fromFile = new NetworkConfig(NetworkModule.LORA, 8, 8, 0, List.of(), first.lora(), true, null, null, 12);
        TrainConfig base = TrainFixture.config(toml, dir.resolve("b"), "b", 1, fromFile, null, null);
        OptimizerConfig frozen = new OptimizerConfig("AdamW", List.of(), 1e-30, "constant", "0", "0", 1, 1, null, null, null, 1);
        TrainConfig c = new TrainConfig(base.dit(), null, null, false, null, toml, base.workingDir(), base.device(), base.mixedPrecision(),
                false, fromFile, frozen, base.timesteps(), 1, null, 1, base.seed(), base.save(), null, null, null, null, Fp8Load.NONE);
        Trainer.Result second = Trainer.run(c, TrainListener.SILENT);
        try (SafetensorsFile a = SafetensorsFile.open(first.lora()); SafetensorsFile b = SafetensorsFile.open(second.lora())) {
            assertEquals(a.names(), b.names());
            for (String n : a.names()) { // one update at lr 1e-30 moves nothing a float can show
                org.junit.jupiter.api.Assertions.assertArrayEquals(a.tensor(n).toDoubleArray(), b.tensor(n).toDoubleArray(), 1e-7, n);
            }
        }
    }

    @Test
    void samples_are_written_at_the_triggers_and_leave_the_training_untouched(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1); // 2 batches an epoch
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "a red ball --w 48 --h 32 --s 3 --d 5 --fs 3.0\nanother one --w 48 --h 32 --s 2\n");
        List<String> encoded = new ArrayList<>();
        java.util.function.IntFunction<dev.loraid.core.generate.TextEncoder> encoder = textLen -> new dev.loraid.core.generate.TextEncoder() {
            @Override
            public Tensor encode(String prompt) {
                encoded.add(prompt);
                return gaussian(new java.util.Random(prompt.hashCode()), 1, 3, 32).to(dev.loraid.tensor.DType.F32);
            }

            @Override
            public void close() {
            }
        };
        TrainConfig plain = TrainFixture.config(toml, dir.resolve("plain"), "s", 6, TrainFixture.network(4, null, 12), null, null);
        TrainConfig sampled = withSampling(TrainFixture.config(toml, dir.resolve("sampled"), "s", 6, TrainFixture.network(4, null, 12),
                null, null), new SampleConfig(prompts, 4, 2, true, encoder, null));
        Trainer.Result a = Trainer.run(plain, TrainListener.SILENT);
        Trainer.Result b = Trainer.run(sampled, TrainListener.SILENT);
        assertSameTensors(a.lora(), b.lora()); // sampling draws from its own seeds
        assertEquals(4, encoded.size()); // each prompt and its (default) negative, encoded once
        assertTrue(encoded.contains(dev.loraid.core.generate.NegativePrompts.WAN));
        List<String> names;
        try (var files = Files.list(dir.resolve("sampled").resolve("sample"))) {
            names = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        // 6 steps of 2 batches an epoch: at first (000000), every 4 steps (000004), every 2 epochs (e000002, at step 4)
        for (String tag : List.of("s_000000_00_", "s_000000_01_", "s_000004_00_", "s_000004_01_", "s_e000002_00_", "s_e000002_01_")) {
            assertTrue(names.stream().anyMatch(n -> n.startsWith(tag) && n.endsWith(".png")), tag + " missing in " + names);
        }
        assertTrue(names.stream().filter(n -> n.startsWith("s_000000_00_")).allMatch(n -> n.endsWith("_5_000.png")), names.toString());
        assertEquals(6, names.size(), names.toString());
        javax.imageio.ImageIO.read(dir.resolve("sampled").resolve("sample").resolve(names.getFirst()).toFile()).getWidth();
    }

    /**
     * --fp8_base / --fp8_scaled: the frozen block weights in fp8 change each step's loss a little (the tiny DiT's output
     * moves by under 1%, Fp8LoadTest), the run is as reproducible, and the LoRA file records ss_fp8_base.
     */
    @Test
    void fp8_base_trains_close_to_the_full_precision_run(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        Losses full = new Losses();
        Trainer.run(TrainFixture.config(toml, dir.resolve("full"), "f", 8, TrainFixture.network(4, null, 12), null, null), full);
        for (Fp8Load mode : new Fp8Load[] {Fp8Load.CAST, Fp8Load.SCALED}) {
            Losses fp8 = new Losses();
            TrainConfig c = TrainFixture.config(toml, dir.resolve(mode.name()), "q", 8, TrainFixture.network(4, null, 12), null, null);
            Trainer.Result r = Trainer.run(withFp8(c, mode), fp8);
            for (int i = 0; i < 8; i++) {
                double a = full.losses.get(i);
                double b = fp8.losses.get(i);
                assertTrue(a != b && Math.abs(a - b) < 0.05 * a, mode + " step " + i + ": loss " + b + " vs " + a);
            }
            Losses again = new Losses();
            Trainer.run(withFp8(TrainFixture.config(toml, dir.resolve(mode + "2"), "q", 8, TrainFixture.network(4, null, 12),
                    null, null), mode), again);
            assertEquals(fp8.losses, again.losses, mode.name());
            try (SafetensorsFile f = SafetensorsFile.open(r.lora())) {
                assertEquals("True", f.metadata().get("ss_fp8_base"));
            }
        }
    }

    /**
     * --optimizer_type AdamW8bit: at rank 64 the tiny DiT's LoRA matrices have 4,096 elements or more, so their moments
     * are 8-bit; the losses stay close to AdamW's (the same noise, slightly different weights) and the file names the
     * optimizer as upstream's metadata does.
     */
    @Test
    void adamw8bit_trains_close_to_adamw(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        Losses full = new Losses();
        Trainer.run(withOptimizer(adamw8bit(toml, dir.resolve("full"), null), "AdamW"), full);
        Losses eight = new Losses();
        Trainer.Result r = Trainer.run(adamw8bit(toml, dir.resolve("eight"), null), eight);
        assertEquals(full.losses.get(0), eight.losses.get(0), "the first step's loss comes before any update");
        for (int i = 1; i < 6; i++) {
            double a = full.losses.get(i);
            double b = eight.losses.get(i);
            assertTrue(a != b && Math.abs(a - b) < 0.05 * a, "step " + i + ": loss " + b + " vs " + a);
        }
        try (SafetensorsFile f = SafetensorsFile.open(r.lora())) {
            assertEquals("bitsandbytes.optim.adamw.AdamW8bit", f.metadata().get("ss_optimizer"));
        }
    }

    /**
     * --base_weights: training with lora_tiny merged into the tiny DiT at 0.7 gives, step for step, the losses of training
     * on a checkpoint that {@code loraid merge} (LoraMerger) merged beforehand: the same fp32 arithmetic by another path;
     * they differ from the plain DiT's.
     */
    @Test
    void base_weights_train_as_on_a_checkpoint_merged_beforehand(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        Path lora = Golden.path("lora_tiny.safetensors");
        Path merged = dir.resolve("merged.safetensors");
        LoraMerger.merge(new MergeRequest(TrainFixture.TINY, List.of(lora), Optional.empty(), List.of(0.7), null, false,
                List.of(), List.of(), null, merged), Reporter.SILENT);
        TrainConfig plain = TrainFixture.config(toml, dir.resolve("plain"), "p", 4, TrainFixture.network(4, null, 12), null, null);
        TrainConfig onMerged = TrainFixture.config(toml, dir.resolve("file"), "f", 4, TrainFixture.network(4, null, 12), null, null);
        onMerged = new TrainConfig(merged, null, null, false, null, onMerged.datasetConfig(), onMerged.workingDir(), onMerged.device(),
                onMerged.mixedPrecision(), false, onMerged.network(), onMerged.optimizer(), onMerged.timesteps(), 4, null, 1,
                onMerged.seed(), onMerged.save(), null, null, null, null, onMerged.fp8());
        TrainConfig c = TrainFixture.config(toml, dir.resolve("base"), "b", 4, TrainFixture.network(4, null, 12), null, null);
        TrainConfig withBase = new TrainConfig(c.dit(), null, null, false, null, c.datasetConfig(), c.workingDir(), c.device(),
                c.mixedPrecision(), false, c.network(), c.optimizer(), c.timesteps(), 4, null, 1, c.seed(), c.save(), null, null,
                null, null, c.fp8(), 0, new BaseWeights(List.of(lora), List.of(0.7)));
        Losses a = new Losses();
        Losses b = new Losses();
        Losses p = new Losses();
        Trainer.run(onMerged, a);
        Trainer.run(withBase, b);
        Trainer.run(plain, p);
        assertEquals(a.losses, b.losses, "--base_weights against the merged checkpoint");
        assertNotEquals(p.losses.get(0), b.losses.get(0), "the merged LoRA changes the DiT");
        // with --fp8_base --fp8_scaled the LoRA is merged before the weights are quantised: the same losses as on the merged
        // checkpoint quantised at load
        Losses a8 = new Losses();
        Losses b8 = new Losses();
        Trainer.run(withFp8(onMerged, Fp8Load.SCALED), a8);
        Trainer.run(new TrainConfig(c.dit(), null, null, false, null, c.datasetConfig(), c.workingDir(), c.device(),
                c.mixedPrecision(), false, c.network(), c.optimizer(), c.timesteps(), 4, null, 1, c.seed(),
                new SaveConfig(dir.resolve("base8"), "b8", null, null, null, null, null, null, false, false, DType.F32, false, null),
                null, null, null, null, Fp8Load.SCALED, 0, new BaseWeights(List.of(lora), List.of(0.7))), b8);
        assertEquals(a8.losses, b8.losses, "--base_weights with fp8 against the merged checkpoint with fp8");
        assertNotEquals(a.losses.get(0), a8.losses.get(0), "fp8 moves the losses");
    }

    /** The resume promise with 8-bit moments: the state holds the codes and scales, and the run ends bit-identical. */
    @Test
    void adamw8bit_resumes_bit_identical(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        Trainer.Result straight = Trainer.run(adamw8bit(toml, dir.resolve("straight"), null), TrainListener.SILENT);
        Path state = dir.resolve("straight").resolve("run" + SaveConfig.stepSuffix(3) + "-state");
        try (SafetensorsFile f = SafetensorsFile.open(state.resolve("state.safetensors"))) {
            long codes = f.names().stream().filter(n -> n.endsWith(".exp_avg") && f.tensor(n).dtype() == DType.U8).count();
            assertTrue(codes > 0 && f.names().stream().anyMatch(n -> n.endsWith(".exp_avg_absmax")), f.names().toString());
        }
        Trainer.Result resumed = Trainer.run(adamw8bit(toml, dir.resolve("resumed"), state), TrainListener.SILENT);
        assertEquals(6, resumed.steps());
        assertSameTensors(straight.lora(), resumed.lora());
    }

    /**
     * --optimizer_type Adafactor with its default relative steps: the rate each step reports is upstream's
     * AdafactorSchedule's, min(1e-2, 1/√t)·max(1e-3, RMS) of the first LoRA parameter before the step, never the
     * configured 5e-3; a run resumed from its step-3 state ends bit-identical; the file's metadata says what upstream
     * writes (the kwargs with relative_step added, the rate None, the schedule adafactor:&lt;lr&gt;).
     */
    @Test
    void adafactor_reports_its_own_rate_and_resumes_bit_identical(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        SaveConfig save = new SaveConfig(dir.resolve("straight"), "run", 3, null, null, null, null, null, true, false,
                DType.F32, false, null);
        TrainConfig c = withOptimizer(TrainFixture.config(toml, dir.resolve("straight"), "run", 6, TrainFixture.network(8, null, 12),
                save, null), "Adafactor", List.of("weight_decay=0.01"));
        Losses straightLog = new Losses();
        Trainer.Result straight = Trainer.run(c, straightLog);
        Path state = dir.resolve("straight").resolve("run" + SaveConfig.stepSuffix(3) + "-state");
        double step4 = straightLog.lrs.get(3);
        try (SafetensorsFile f = SafetensorsFile.open(state.resolve("state.safetensors"))) {
            assertTrue(f.names().stream().anyMatch(n -> n.endsWith(".exp_avg_sq_row")), f.names().toString());
            boolean found = false;
            for (String n : f.names()) {
                if (n.startsWith("param/")) {
                    double[] w = f.tensor(n).toDoubleArray();
                    double ss = 0;
                    for (double v : w) {
                        ss += v * v;
                    }
                    found |= Math.abs(1e-2 * Math.max(1e-3, Math.sqrt(ss / w.length)) - step4) < 1e-6 * step4;
                }
            }
            assertTrue(found, "step 4's rate " + step4 + " is 1e-2·max(1e-3, RMS) of a LoRA parameter saved at step 3");
        }
        for (double lr : straightLog.lrs) {
            assertTrue(lr > 0 && lr <= 1e-2 && lr != 5e-3, "reported rate " + lr);
        }
        try (SafetensorsFile f = SafetensorsFile.open(straight.lora())) {
            assertEquals("transformers.optimization.Adafactor(weight_decay=0.01,relative_step=True)", f.metadata().get("ss_optimizer"));
            assertEquals("adafactor:0.005", f.metadata().get("ss_lr_scheduler"));
            assertEquals("None", f.metadata().get("ss_learning_rate"));
        }
        TrainConfig again = withOptimizer(TrainFixture.config(toml, dir.resolve("resumed"), "run", 6, TrainFixture.network(8, null, 12),
                new SaveConfig(dir.resolve("resumed"), "run", 3, null, null, null, null, null, true, false, DType.F32, false, null),
                state), "Adafactor", List.of("weight_decay=0.01"));
        Losses resumedLog = new Losses();
        Trainer.Result resumed = Trainer.run(again, resumedLog);
        assertEquals(straightLog.losses.subList(3, 6), resumedLog.losses);
        assertSameTensors(straight.lora(), resumed.lora());
    }

    /**
     * --optimizer_type prodigyopt.Prodigy: its estimate d and the per-parameter state (a zero scalar as p0 for the
     * zero-initialised lora_up) go into the run state, and a run resumed from step 3 ends bit-identical; each step reports
     * d·lr as its rate, which starts at d0·lr and grows.
     */
    @Test
    void prodigy_resumes_bit_identical(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        List<String> args = List.of("d_coef=2", "weight_decay=0.01");
        TrainConfig c = withOptimizer(TrainFixture.config(toml, dir.resolve("straight"), "run", 6, TrainFixture.network(8, null, 12),
                new SaveConfig(dir.resolve("straight"), "run", 3, null, null, null, null, null, true, false, DType.F32, false, null),
                null), "prodigyopt.Prodigy", args, 1.0);
        Losses log = new Losses();
        Trainer.Result straight = Trainer.run(c, log);
        assertEquals(1e-6, log.lrs.getFirst(), 1e-20, "the first step's rate is lr·d0");
        assertTrue(log.lrs.getLast() > 10 * log.lrs.getFirst(), "d grows: " + log.lrs);
        Path state = dir.resolve("straight").resolve("run" + SaveConfig.stepSuffix(3) + "-state");
        try (SafetensorsFile f = SafetensorsFile.open(state.resolve("state.safetensors"))) {
            assertTrue(f.names().contains("optim/prodigy.d"), f.names().toString());
            assertTrue(f.names().stream().anyMatch(n -> n.endsWith("lora_up.weight.p0") && f.tensor(n).shape().rank() == 0),
                    "lora_up starts at zero: its p0 is a scalar");
        }
        try (SafetensorsFile f = SafetensorsFile.open(straight.lora())) {
            assertEquals("prodigyopt.prodigy.Prodigy(d_coef=2,weight_decay=0.01)", f.metadata().get("ss_optimizer"));
        }
        TrainConfig again = withOptimizer(TrainFixture.config(toml, dir.resolve("resumed"), "run", 6, TrainFixture.network(8, null, 12),
                new SaveConfig(dir.resolve("resumed"), "run", 3, null, null, null, null, null, true, false, DType.F32, false, null),
                state), "prodigyopt.Prodigy", args, 1.0);
        Losses resumedLog = new Losses();
        Trainer.Result resumed = Trainer.run(again, resumedLog);
        assertEquals(log.losses.subList(3, 6), resumedLog.losses);
        assertEquals(log.lrs.subList(3, 6), resumedLog.lrs);
        assertSameTensors(straight.lora(), resumed.lora());
    }

    /**
     * --optimizer_type schedulefree.AdamWScheduleFree: the step-3 LoRA file holds x, the same weights its state folder
     * holds (saved in eval mode, as upstream saves), and a run resumed from that state ends bit-identical (both go back to
     * train mode from the same x and z).
     */
    @Test
    void schedule_free_saves_x_and_resumes_bit_identical(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        List<String> args = List.of("warmup_steps=2");
        TrainConfig c = withOptimizer(TrainFixture.config(toml, dir.resolve("straight"), "run", 6, TrainFixture.network(8, null, 12),
                new SaveConfig(dir.resolve("straight"), "run", 3, null, null, null, null, null, true, false, DType.F32, false, null),
                null), "schedulefree.AdamWScheduleFree", args);
        Losses log = new Losses();
        Trainer.Result straight = Trainer.run(c, log);
        assertEquals(List.of(2.5e-3, 5e-3, 5e-3), log.lrs.subList(0, 3), "warmup_steps=2 inside the optimizer");
        Path state = dir.resolve("straight").resolve("run" + SaveConfig.stepSuffix(3) + "-state");
        try (SafetensorsFile st = SafetensorsFile.open(state.resolve("state.safetensors"));
                SafetensorsFile lora = SafetensorsFile.open(c.save().loraFile(SaveConfig.stepSuffix(3)))) {
            assertEquals(0, st.tensor("optim/schedulefree.train_mode").getLong(), "saved in eval mode");
            int compared = 0;
            for (String n : lora.names()) {
                if (n.endsWith(".lora_down.weight") || n.endsWith(".lora_up.weight")) {
                    assertArrayEquals(st.tensor("param/" + n).toFloatArray(), lora.tensor(n).toFloatArray(), n);
                    compared++;
                }
            }
            assertTrue(compared > 0);
        }
        try (SafetensorsFile f = SafetensorsFile.open(straight.lora())) {
            assertEquals("schedulefree.adamw_schedulefree.AdamWScheduleFree(warmup_steps=2)", f.metadata().get("ss_optimizer"));
            assertEquals("constant", f.metadata().get("ss_lr_scheduler"));
        }
        TrainConfig again = withOptimizer(TrainFixture.config(toml, dir.resolve("resumed"), "run", 6, TrainFixture.network(8, null, 12),
                new SaveConfig(dir.resolve("resumed"), "run", 3, null, null, null, null, null, true, false, DType.F32, false, null),
                state), "schedulefree.AdamWScheduleFree", args);
        Losses resumedLog = new Losses();
        Trainer.Result resumed = Trainer.run(again, resumedLog);
        assertEquals(log.losses.subList(3, 6), resumedLog.losses);
        assertSameTensors(straight.lora(), resumed.lora());
    }

    /** 6 steps of AdamW8bit at rank 64 (8-bit moments), a LoRA file and a state every 3. */
    private static TrainConfig adamw8bit(Path toml, Path out, Path resume) {
        SaveConfig save = new SaveConfig(out, "run", 3, null, null, null, null, null, true, false, DType.F32, false, null);
        return withOptimizer(TrainFixture.config(toml, out, "run", 6, TrainFixture.network(64, null, 12), save, resume),
                "AdamW8bit");
    }

    private static TrainConfig withOptimizer(TrainConfig c, String type) {
        return withOptimizer(c, type, c.optimizer().args());
    }

    private static TrainConfig withOptimizer(TrainConfig c, String type, List<String> args) {
        return withOptimizer(c, type, args, c.optimizer().learningRate());
    }

    private static TrainConfig withOptimizer(TrainConfig c, String type, List<String> args, double lr) {
        OptimizerConfig o = c.optimizer();
        OptimizerConfig changed = new OptimizerConfig(type, args, lr, o.scheduler(), o.warmupSteps(),
                o.decaySteps(), o.numCycles(), o.power(), o.minLrRatio(), o.timescale(), o.stepRules(), o.maxGradNorm());
        return new TrainConfig(c.dit(), c.ditHighNoise(), c.timestepBoundary(), c.offloadInactiveDit(), c.task(), c.datasetConfig(),
                c.workingDir(), c.device(), c.mixedPrecision(), c.gradientCheckpointing(), c.network(), changed, c.timesteps(),
                c.maxTrainSteps(), c.maxTrainEpochs(), c.gradientAccumulationSteps(), c.seed(), c.save(), c.validation(), c.resume(),
                c.vae(), c.sampling(), c.fp8());
    }

    private static TrainConfig withFp8(TrainConfig c, Fp8Load fp8) {
        return new TrainConfig(c.dit(), c.ditHighNoise(), c.timestepBoundary(), c.offloadInactiveDit(), c.task(), c.datasetConfig(),
                c.workingDir(), c.device(), c.mixedPrecision(), c.gradientCheckpointing(), c.network(), c.optimizer(), c.timesteps(),
                c.maxTrainSteps(), c.maxTrainEpochs(), c.gradientAccumulationSteps(), c.seed(), c.save(), c.validation(), c.resume(),
                c.vae(), c.sampling(), fp8);
    }

    private static TrainConfig withSampling(TrainConfig c, SampleConfig sampling) {
        return new TrainConfig(c.dit(), c.ditHighNoise(), c.timestepBoundary(), c.offloadInactiveDit(), c.task(), c.datasetConfig(),
                c.workingDir(), c.device(), c.mixedPrecision(), c.gradientCheckpointing(), c.network(), c.optimizer(), c.timesteps(),
                c.maxTrainSteps(), c.maxTrainEpochs(), c.gradientAccumulationSteps(), c.seed(), c.save(), c.validation(), c.resume(),
                c.vae(), sampling, c.fp8());
    }

    private static TrainConfig dual(Path toml, Path out, Path lowDit, Path highDit, TimestepConfig timesteps) {
        TrainConfig c = TrainFixture.config(toml, out, "dual", 6, TrainFixture.network(4, null, 12), null, null);
        return new TrainConfig(lowDit, highDit, 0.5, true, null, c.datasetConfig(), c.workingDir(), c.device(), c.mixedPrecision(),
                false, c.network(), c.optimizer(), timesteps, c.maxTrainSteps(), null, 1, c.seed(), c.save(), null, null, null, null, c.fp8());
    }

    private static float[] nanArray(long n) {
        float[] a = new float[(int) n];
        java.util.Arrays.fill(a, Float.NaN);
        return a;
    }

    private static Map<String, Tensor> blockOutputs(WanModel model, WanInputs in) {
        Map<String, Tensor> taps = new HashMap<>();
        WanTaps keep = (name, t) -> {
            if (name.endsWith(".out")) {
                try (MemoryScope outside = MemoryScope.suspend()) {
                    taps.put(name, t.copy());
                }
            }
        };
        model.forward(in, keep);
        return taps;
    }

    static void assertSameTensors(Path a, Path b) throws Exception {
        try (SafetensorsFile x = SafetensorsFile.open(a); SafetensorsFile y = SafetensorsFile.open(b)) {
            assertEquals(x.names(), y.names());
            for (String n : x.names()) {
                Golden.assertSameBytes(n, x.tensor(n), y.tensor(n));
            }
        }
        assertTrue(Files.size(a) > 0);
    }
}
