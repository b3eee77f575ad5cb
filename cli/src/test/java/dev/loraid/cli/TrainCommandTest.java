package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loraid train} as issue 11's "done means" runs it: step files, a state, the log, and a resume to the same end. */
class TrainCommandTest {
    private static final Path TINY = Path.of(System.getProperty("loraid.testdata"), "golden", "wan_tiny_weights.safetensors");
    private static final String LORA = TINY.resolveSibling("lora_tiny.safetensors").toString();

    /** Three cached images in musubi's layout (latents [4, 1, 4, 6] bf16, T5 [L, 32] bf16) and their TOML. */
    static Path dataset(Path dir) throws Exception {
        Path cache = Files.createDirectories(dir.resolve("cache"));
        for (int k = 0; k < 3; k++) {
            float[] lat = new float[96];
            float[] t5 = new float[(4 + k) * 32];
            for (int i = 0; i < lat.length; i++) {
                lat[i] = (float) Math.cos(0.3 * i * (k + 1));
            }
            for (int i = 0; i < t5.length; i++) {
                t5[i] = (float) Math.sin(1.7 * i + k);
            }
            SafetensorsWriter.write(cache.resolve("img" + k + "_0048x0032_wan.safetensors"),
                    Map.of("latents_1x4x6_bfloat16", Tensor.of(lat, 4, 1, 4, 6).to(DType.BF16)), Map.of("architecture", "wan"));
            SafetensorsWriter.write(cache.resolve("img" + k + "_wan_te.safetensors"),
                    Map.of("varlen_t5_bfloat16", Tensor.of(t5, 4 + k, 32).to(DType.BF16)), Map.of("architecture", "wan"));
        }
        Path toml = dir.resolve("ds.toml");
        Files.writeString(toml, "[general]\nresolution = [48, 32]\nbatch_size = 1\nenable_bucket = true\n\n[[datasets]]\n"
                + "image_directory = \"" + dir.resolve("images") + "\"\ncache_directory = \"" + cache + "\"\n");
        return toml;
    }

    private static List<String> flags(Path toml, Path out) {
        return new ArrayList<>(List.of("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--LORAID", "2",
                "--blocks_per_loraid", "2", "--network_dim", "4", "--network_alpha", "4", "--learning_rate", "5e-3",
                "--max_train_steps", "120", "--seed", "7", "--timestep_sampling", "shift", "--discrete_flow_shift", "3.0",
                "--save_every_n_steps", "40", "--save_state", "--mixed_precision", "no", "--output_dir", out.toString(),
                "--output_name", "mylora"));
    }

    @Test
    void the_issue_command_trains_saves_and_resumes_to_identical_weights(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        Path out = dir.resolve("out");
        CliRun first = CliRun.run(flags(toml, out).toArray(String[]::new));
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("trained 120 steps"), first.out());
        for (String f : List.of("mylora-step00000040.safetensors", "mylora-step00000080.safetensors", "mylora-step00000120.safetensors",
                "mylora.safetensors", "mylora-step00000040-state/state.safetensors", "mylora-step00000080-state/state.safetensors",
                "mylora-state/state.safetensors")) {
            assertTrue(Files.exists(out.resolve(f)), f + " missing; err: " + first.err());
        }
        List<String> log = Files.readAllLines(out.resolve("mylora-log.jsonl"));
        assertEquals(120, log.size());
        assertTrue(log.get(0).startsWith("{\"step\":1,\"epoch\":1,\"loss\":"), log.get(0));
        Path straight = dir.resolve("straight.safetensors");
        Files.copy(out.resolve("mylora.safetensors"), straight);

        List<String> resume = flags(toml, out);
        resume.addAll(List.of("--resume", out.resolve("mylora-step00000040-state").toString()));
        CliRun again = CliRun.run(resume.toArray(String[]::new));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("resumed from"), again.err());
        try (SafetensorsFile a = SafetensorsFile.open(straight); SafetensorsFile b = SafetensorsFile.open(out.resolve("mylora.safetensors"))) {
            assertEquals(a.names(), b.names());
            assertEquals("2", b.metadata().get("ss_loraid"));
            for (String n : a.names()) {
                assertArrayEquals(a.tensor(n).toDoubleArray(), b.tensor(n).toDoubleArray(), 0.0, n);
            }
        }
        assertEquals(log, Files.readAllLines(out.resolve("mylora-log.jsonl")));
    }

    @Test
    void epoch_files_feed_ema_and_the_final_file_feeds_merge_and_validate(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        Path out = dir.resolve("out");
        List<String> args = flags(toml, out);
        int at = args.indexOf("--max_train_steps");
        args.set(at, "--max_train_epochs");
        args.set(at + 1, "4");
        args.set(args.indexOf("--save_every_n_steps"), "--save_every_n_epochs");
        args.set(args.indexOf("--save_every_n_epochs") + 1, "1");
        CliRun train = CliRun.run(args.toArray(String[]::new));
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().contains("trained 12 steps"), train.out()); // 3 items, batch 1: 3 steps an epoch
        for (int e = 1; e <= 3; e++) { // every epoch but the last, which is the final file
            assertTrue(Files.exists(out.resolve(String.format("mylora-%06d.safetensors", e))), "epoch " + e);
            assertTrue(Files.exists(out.resolve(String.format("mylora-%06d-state/state.safetensors", e))), "epoch state " + e);
        }
        assertTrue(!Files.exists(out.resolve("mylora-000004.safetensors")));
        CliRun ema = CliRun.run("ema", out.resolve("mylora-000001.safetensors").toString(), out.resolve("mylora-000002.safetensors").toString(),
                out.resolve("mylora-000003.safetensors").toString(), "--sigma_rel", "0.2", "--output_file", dir.resolve("ema.safetensors").toString());
        assertEquals(0, ema.code(), ema.err());
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("ema.safetensors"))) {
            assertEquals("2", f.metadata().get("ss_loraid"));
        }
        CliRun merge = CliRun.run("merge", "--dit", TINY.toString(), "--lora_weight", out.resolve("mylora.safetensors").toString(),
                "--save_merged_model", dir.resolve("merged.safetensors").toString());
        assertEquals(0, merge.code(), merge.err());
        CliRun validate = CliRun.run("validate", "--dit", TINY.toString(), "--lora_weight", out.resolve("mylora.safetensors").toString());
        assertEquals(0, validate.code(), validate.err() + validate.out());
    }

    @Test
    void sample_prompts_are_encoded_by_the_java_umt5_and_sampled_during_training(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        Path out = dir.resolve("out");
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "a red ball --w 48 --h 32 --s 4 --d 11 --fs 3.0\n");
        Path golden = TINY.getParent();
        List<String> args = flags(toml, out);
        args.set(args.indexOf("--max_train_steps") + 1, "40");
        args.addAll(List.of("--sample_prompts", prompts.toString(), "--sample_every_n_steps", "20", "--sample_at_first",
                "--t5", golden.resolve("umt5_tiny_weights.safetensors").toString(),
                "--tokenizer", golden.resolve("spm_tiny_tokenizer.json").toString(),
                "--vae", golden.resolve("vae_tiny_weights.safetensors").toString(), "--vae_latent_stats", stats(dir).toString()));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<String> samples;
        try (var files = Files.list(out.resolve("sample"))) {
            samples = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(3, samples.size(), samples.toString()); // at first, step 20, step 40
        for (String tag : List.of("mylora_000000_00_", "mylora_000020_00_", "mylora_000040_00_")) {
            assertTrue(samples.stream().anyMatch(n -> n.startsWith(tag) && n.endsWith("_11_000.png")), tag + " in " + samples);
        }
        // decoded by the tiny VAE: 48×32 pixels (8× the 6×4 latent), not the projection
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(out.resolve("sample").resolve(samples.getFirst()).toFile());
        assertEquals(48, img.getWidth());
        assertEquals(32, img.getHeight());
    }

    /** The tiny VAE's 4-channel latent statistics, from its golden file. */
    private static Path stats(Path dir) throws Exception {
        Path stats = dir.resolve("stats.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(TINY.getParent().resolve("vae_tiny_forward.safetensors"))) {
            SafetensorsWriter.write(stats, Map.of("latents_mean", f.tensor("latents_mean").copy(), "latents_std",
                    f.tensor("latents_std").copy()), Map.of());
        }
        return stats;
    }

    @Test
    void fp8_scaled_needs_fp8_base_and_fp8_base_trains(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        List<String> args = flags(toml, dir.resolve("out"));
        args.add("--fp8_scaled");
        CliRun alone = CliRun.run(args.toArray(String[]::new));
        assertEquals(2, alone.code(), alone.err());
        assertTrue(alone.err().contains("--fp8_scaled needs --fp8_base"), alone.err());
        args.add("--fp8_base");
        CliRun both = CliRun.run(args.toArray(String[]::new));
        assertEquals(0, both.code(), both.err());
    }

    /**
     * --blocks_to_swap 3 on the 4-block model (one block resident; the LORAID slice trains blocks 2 and 3, so the
     * backward pass stops half way and the next step moves the first block back): the same LoRA as without swapping,
     * to the bit; 4 of 4 blocks is refused naming the range, and so is the combination with --offload_inactive_dit.
     */
    @Test
    void blocks_to_swap_trains_the_same_lora_and_checks_its_range(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        List<String> plain = flags(toml, dir.resolve("plain"));
        plain.set(plain.indexOf("--max_train_steps") + 1, "6");
        List<String> swapped = flags(toml, dir.resolve("swapped"));
        swapped.set(swapped.indexOf("--max_train_steps") + 1, "6");
        swapped.addAll(List.of("--blocks_to_swap", "3"));
        CliRun a = CliRun.run(plain.toArray(String[]::new));
        assertEquals(0, a.code(), a.err());
        CliRun b = CliRun.run(swapped.toArray(String[]::new));
        assertEquals(0, b.code(), b.err());
        assertTrue(b.err().contains("block swap: 3 of 4 blocks in host memory, 1 resident"), b.err());
        try (SafetensorsFile x = SafetensorsFile.open(dir.resolve("plain/mylora.safetensors"));
                SafetensorsFile y = SafetensorsFile.open(dir.resolve("swapped/mylora.safetensors"))) {
            assertEquals(x.names(), y.names());
            assertTrue(x.names().size() >= 20, "two blocks of 10 adapted layers: " + x.names());
            for (String n : x.names()) {
                assertArrayEquals(x.tensor(n).to(DType.F32).toFloatArray(), y.tensor(n).to(DType.F32).toFloatArray(), n);
            }
        }
        // a LoHa network reads each layer's weight again when its update is rebuilt in the backward pass: the swap has it there
        List<String> lohaPlain = new ArrayList<>(plain);
        List<String> lohaSwapped = new ArrayList<>(swapped);
        for (List<String> l : List.of(lohaPlain, lohaSwapped)) {
            l.addAll(List.of("--network_module", "networks.loha"));
            l.set(l.indexOf("--output_dir") + 1, dir.resolve((l == lohaPlain ? "plain" : "swapped") + "-loha").toString());
        }
        assertEquals(0, CliRun.run(lohaPlain.toArray(String[]::new)).code());
        assertEquals(0, CliRun.run(lohaSwapped.toArray(String[]::new)).code());
        try (SafetensorsFile x = SafetensorsFile.open(dir.resolve("plain-loha/mylora.safetensors"));
                SafetensorsFile y = SafetensorsFile.open(dir.resolve("swapped-loha/mylora.safetensors"))) {
            assertEquals(x.names(), y.names());
            for (String n : x.names()) {
                assertArrayEquals(x.tensor(n).to(DType.F32).toFloatArray(), y.tensor(n).to(DType.F32).toFloatArray(), n);
            }
        }
        swapped.set(swapped.indexOf("--blocks_to_swap") + 1, "4");
        swapped.set(swapped.indexOf("--output_dir") + 1, dir.resolve("too-many").toString());
        CliRun c = CliRun.run(swapped.toArray(String[]::new));
        assertTrue(c.code() != 0, c.err());
        assertTrue(c.err().contains("--blocks_to_swap") && c.err().contains("give 1..3"), c.err());
        // spec training.md §1.7: not with --offload_inactive_dit (a usage error, before anything is read)
        swapped.set(swapped.indexOf("--blocks_to_swap") + 1, "2");
        swapped.addAll(List.of("--dit_high_noise", TINY.toString(), "--offload_inactive_dit"));
        CliRun d = CliRun.run(swapped.toArray(String[]::new));
        assertEquals(2, d.code(), d.err());
        assertTrue(d.err().contains("--offload_inactive_dit and --blocks_to_swap exclude each other"), d.err());
    }

    @Test
    void flags_that_break_a_rule_are_usage_errors_naming_the_flag(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        Path out = dir.resolve("out");
        String[][] cases = {
            {"--LORAID", "3", "training accepts a single LORAID; got [2, 3]"},
            {"--optimizer_type", "AdEMAMix8bit", "--optimizer_type AdEMAMix8bit is not supported (supported: AdamW, AdamW8bit, PagedAdamW8bit, Adafactor"},
            {"--sample_every_n_steps", "5", "need --sample_prompts"},
            {"--timestep_sampling", "ideogram4_shift", "ideogram4_shift"},
            {"--network_args", "rank_dropout=1.5", "rank_dropout must be in [0, 1)"},
            {"--network_module", "networks.lora", "--network_module networks.lora is not supported (known: networks.lora_wan, "
                + "networks.loha, networks.lokr)"},
            {"--network_args", "factor=two", "--network_args factor: expected an integer, got 'two'"},
            {"--min_timestep", "900", "--max_timestep", "100", "--min_timestep"},
            {"--base_weights_multiplier", "0.5", "--base_weights_multiplier needs --base_weights"},
            {"--base_weights", LORA, "--base_weights_multiplier", "0.5,0.6",
                "--base_weights_multiplier has 2 value(s) for 1 file(s)"},
            {"--base_weights", LORA, "--dit_high_noise", TINY.toString(), "--base_weights with two experts (--dit_high_noise) is not supported"},
        };
        for (String[] c : cases) {
            List<String> args = flags(toml, out);
            for (int i = 0; i < c.length - 1; i += 2) {
                int at = args.indexOf(c[i]);
                if (at >= 0 && !c[i].equals("--LORAID")) {
                    args.set(at + 1, c[i + 1]); // a single-value flag given twice keeps its first value: replace it
                } else {
                    args.addAll(List.of(c[i], c[i + 1]));
                }
            }
            CliRun r = CliRun.run(args.toArray(String[]::new));
            assertEquals(2, r.code(), Arrays.toString(c) + ": " + r.err());
            assertTrue(r.err().contains(c[c.length - 1]), Arrays.toString(c) + ": " + r.err());
        }
    }

    /**
     * training.md §9's typical Wan 2.1 command (musubi's docs) as given, but for the paths and 2 epochs instead of 16:
     * every flag is taken (the attention and data-loader ones with a note that they change nothing here).
     */
    @Test
    void the_docs_typical_command_runs_as_given(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        CliRun r = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--sdpa",
                "--mixed_precision", "bf16", "--fp8_base", "--optimizer_type", "adamw8bit", "--learning_rate", "2e-4",
                "--gradient_checkpointing", "--max_data_loader_n_workers", "2", "--persistent_data_loader_workers",
                "--network_module", "networks.lora_wan", "--network_dim", "32", "--timestep_sampling", "shift",
                "--discrete_flow_shift", "3.0", "--max_train_epochs", "2", "--save_every_n_epochs", "1", "--seed", "42",
                "--output_dir", dir.resolve("out").toString(), "--output_name", "typical");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(dir.resolve("out").resolve("typical.safetensors")), r.err());
        assertTrue(Files.exists(dir.resolve("out").resolve("typical-000001.safetensors")), r.err());
        assertTrue(r.err().contains("AdamW8bit:"), r.err());
    }

    /**
     * musubi's docs/loha_lokr.md commands, on Wan (its mixed precision, fp8 base, AdamW8bit, checkpointing; LoKr with
     * --fp8_scaled too): each trains
     * and saves the module's tensors; what LoHa and LoKr do not use is named as ignored.
     */
    @Test
    void the_loha_and_lokr_docs_commands_run_on_wan(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        for (String module : List.of("networks.loha", "networks.lokr")) {
            Path out = dir.resolve(module);
            List<String> args = new ArrayList<>(List.of("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(),
                    "--sdpa", "--mixed_precision", "bf16", "--fp8_base", "--optimizer_type", "adamw8bit", "--learning_rate", "2e-4",
                    "--gradient_checkpointing", "--network_module", module, "--network_dim", "32", "--network_alpha", "16",
                    "--max_train_epochs", "2", "--save_every_n_epochs", "1", "--output_dir", out.toString(), "--output_name", "my",
                    "--network_dropout", "0.1"));
            if (module.equals("networks.lokr")) {
                // and fp8 weights with scales: the update is folded into the dequantised weight
                args.addAll(List.of("--network_args", "factor=4", "--fp8_scaled"));
            }
            CliRun r = CliRun.run(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().contains("--network_dropout (LoHa and LoKr take rank_dropout and module_dropout) does nothing with "
                    + "--network_module " + module), r.err());
            assertTrue(r.err().contains("training 40 " + (module.equals("networks.loha") ? "LoHa" : "LoKr") + " modules"), r.err());
            try (dev.loraid.tensor.safetensors.SafetensorsFile f = dev.loraid.tensor.safetensors.SafetensorsFile.open(
                    out.resolve("my.safetensors"))) {
                assertEquals(module, f.metadata().get("ss_network_module"));
                String part = module.equals("networks.loha") ? "lora_unet_blocks_0_ffn_0.hada_w2_b" : "lora_unet_blocks_0_ffn_0.lokr_w1";
                assertTrue(f.names().contains(part), f.names().toString());
            }
            // ema takes the run's epochs too: a linear EMA of two files is 0.75·first + 0.25·second, tensor by tensor
            Path e1 = out.resolve("my-000001.safetensors");
            Path e2 = out.resolve("my.safetensors");
            CliRun ema = CliRun.run("ema", e1.toString(), e2.toString(), "--no_sort", "--beta", "0.75", "--output_file",
                    out.resolve("ema.safetensors").toString());
            assertEquals(0, ema.code(), ema.err());
            try (var a = dev.loraid.tensor.safetensors.SafetensorsFile.open(e1);
                    var b = dev.loraid.tensor.safetensors.SafetensorsFile.open(e2);
                    var m = dev.loraid.tensor.safetensors.SafetensorsFile.open(out.resolve("ema.safetensors"))) {
                assertEquals(a.names(), m.names());
                for (String n : a.names()) {
                    double[] x = a.tensor(n).toDoubleArray();
                    double[] y = b.tensor(n).toDoubleArray();
                    double[] got = m.tensor(n).toDoubleArray();
                    for (int k = 0; k < x.length; k++) {
                        double want = n.endsWith(".alpha") ? x[k] : 0.75 * x[k] + 0.25 * y[k];
                        assertEquals(want, got[k], 1e-6 * (1 + Math.abs(want)), n + "[" + k + "]");
                    }
                }
            }
            CliRun blend = CliRun.run("ema", "--lora1", e1.toString(), "--lora2", e1.toString(), "--average", "0.5",
                    "--output_file", out.resolve("blend.safetensors").toString());
            assertEquals(1, blend.code(), blend.err());
            assertTrue(blend.err().contains("LoHa/LoKr files take the post-hoc EMA of one series only"), blend.err());
        }
    }

    /**
     * --lr_scheduler_type CosineAnnealingLR with its --lr_scheduler_args: the log's rate of step k is the class's
     * η_min + (lr − η_min)·(1 + cos(π·(k−1)/T_max))/2, past T_max too; --lr_scheduler and its warmup are replaced (a warning
     * says so).
     */
    @Test
    void a_torch_scheduler_class_sets_the_rate(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        Path out = dir.resolve("out");
        CliRun r = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--learning_rate", "1e-3",
                "--lr_scheduler", "linear", "--lr_warmup_steps", "2", "--lr_scheduler_type", "CosineAnnealingLR",
                "--lr_scheduler_args", "T_max=4", "eta_min=1e-4", "--network_dim", "4", "--max_train_steps", "6", "--seed", "1",
                "--output_dir", out.toString(), "--output_name", "cos");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("--lr_scheduler_type CosineAnnealingLR replaces --lr_scheduler linear"), r.err());
        List<String> log = Files.readAllLines(out.resolve("cos-log.jsonl"));
        assertEquals(6, log.size());
        for (int k = 1; k <= 6; k++) {
            String line = log.get(k - 1);
            double lr = Double.parseDouble(line.replaceAll(".*\"lr\":([-0-9.eE]+).*", "$1"));
            assertEquals(1e-4 + (1e-3 - 1e-4) * (1 + Math.cos(Math.PI * (k - 1) / 4)) / 2, lr, 1e-12, line);
        }
        CliRun bad = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--lr_scheduler_type",
                "StepLR", "--output_dir", dir.resolve("bad").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--lr_scheduler_type: StepLR needs --lr_scheduler_args step_size=..."),
                bad.err());
    }

    /**
     * torch.compile's flags and --gradient_checkpointing_cpu_offload carry over from upstream's command lines: accepted on
     * the CPU with a notice each (nothing to compile; activations are in host memory; the offload recorded in the file's
     * metadata as upstream records it, and warned about without --gradient_checkpointing); --resume_from_huggingface is
     * refused.
     */
    @Test
    void compile_and_activation_offload_flags_carry_over(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        CliRun r = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--compile",
                "--compile_mode", "max-autotune-no-cudagraphs", "--compile_dynamic", "auto", "--compile_fullgraph",
                "--sage_attn", "--dynamo_backend", "inductor", "--force_v2_1_time_embedding",
                "--gradient_checkpointing", "--gradient_checkpointing_cpu_offload", "--network_dim", "4", "--max_train_steps", "2",
                "--seed", "1", "--output_dir", dir.resolve("out").toString(), "--output_name", "c");
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("--compile has no effect here", "--compile_mode has no effect here", "--sage_attn has no effect",
                "--dynamo_backend has no effect", "--force_v2_1_time_embedding has no effect",
                "--gradient_checkpointing_cpu_offload: training on the CPU")) {
            assertTrue(r.err().contains(f), f + ": " + r.err());
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("out").resolve("c.safetensors"))) {
            assertEquals("True", f.metadata().get("ss_gradient_checkpointing_cpu_offload"));
            assertEquals("True", f.metadata().get("ss_gradient_checkpointing"));
        }
        CliRun alone = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(),
                "--gradient_checkpointing_cpu_offload", "--network_dim", "4", "--max_train_steps", "1", "--seed", "1",
                "--output_dir", dir.resolve("alone").toString(), "--output_name", "a");
        assertEquals(0, alone.code(), alone.err());
        assertTrue(alone.err().contains("--gradient_checkpointing_cpu_offload has no effect without --gradient_checkpointing"),
                alone.err());
        CliRun hub = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--resume_from_huggingface",
                "--output_dir", dir.resolve("hub").toString());
        assertEquals(2, hub.code(), hub.err());
        assertTrue(hub.err().contains("--resume_from_huggingface is not supported: no Hugging Face Hub access"), hub.err());
        CliRun repo = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--huggingface_repo_id",
                "me/lora", "--output_dir", dir.resolve("hub").toString());
        assertEquals(2, repo.code(), repo.err());
        assertTrue(repo.err().contains("--huggingface_repo_id is not supported: no Hugging Face Hub access"), repo.err());
        CliRun bf16 = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--full_bf16",
                "--output_dir", dir.resolve("hub").toString());
        assertEquals(2, bf16.code(), bf16.err());
        assertTrue(bf16.err().contains("--full_bf16 is not supported: LoRA weights"), bf16.err());
    }

    /**
     * --logging_dir alone means TensorBoard (upstream's default tracker): the run's event file lands under
     * DIR/&lt;prefix&gt;&lt;stamp&gt;/network_train and the log names it; wandb, and tensorboard without a folder, are refused.
     */
    @Test
    void logging_dir_writes_tensorboard_events(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        CliRun r = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--network_dim", "4",
                "--max_train_steps", "2", "--seed", "1", "--output_dir", dir.resolve("out").toString(), "--output_name", "tb",
                "--logging_dir", dir.resolve("logs").toString(), "--log_prefix", "tb-");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("TensorBoard events: " + dir.resolve("logs")), r.err());
        try (java.util.stream.Stream<Path> s = Files.walk(dir.resolve("logs"))) {
            List<Path> events = s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).toList();
            assertEquals(1, events.size(), events.toString());
            assertEquals("network_train", events.getFirst().getParent().getFileName().toString());
            assertTrue(events.getFirst().getParent().getParent().getFileName().toString().startsWith("tb-"), events.toString());
        }
        for (String[] bad : new String[][] {{"--log_with", "wandb"}, {"--log_with", "tensorboard"}, {"--log_prefix", "x"}}) {
            CliRun refused = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), bad[0], bad[1],
                    "--output_dir", dir.resolve("bad").toString(), "--output_name", "bad");
            assertEquals(2, refused.code(), refused.err());
            assertTrue(refused.err().contains(bad[1].equals("wandb") ? "--log_with wandb is not supported"
                    : bad[0] + " " + (bad[1].equals("x") ? "needs --logging_dir" : "tensorboard needs --logging_dir")),
                    refused.err());
        }
    }

    /**
     * --config_file (upstream's): a TOML of flags in tables, ".toml" appended to the name; the command line wins (3 steps,
     * not the file's 2); booleans are flags; an unknown key is a usage error naming it.
     */
    @Test
    void config_file_gives_the_flags_the_command_line_leaves_out(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        Files.writeString(dir.resolve("run.toml"), String.join("\n",
                "[model]", "dit = '" + TINY + "'",
                "[training]", "max_train_steps = 2", "seed = 1", "network_dim = 4", "gradient_checkpointing = true",
                "sdpa = false", "learning_rate = 1e-3", "network_args = ['loraplus_lr_ratio=4']",
                "[output]", "output_dir = '" + dir.resolve("out") + "'", "output_name = 'cfg'", ""));
        CliRun r = CliRun.run("train", "--config_file", dir.resolve("run").toString(), "--dataset_config", toml.toString(),
                "--max_train_steps", "3");
        assertEquals(0, r.code(), r.err());
        List<String> log = Files.readAllLines(dir.resolve("out/cfg-log.jsonl"));
        assertEquals(3, log.size(), log.toString());
        assertTrue(log.getFirst().contains("\"lr\":0.001"), log.getFirst());
        try (dev.loraid.tensor.safetensors.SafetensorsFile f = dev.loraid.tensor.safetensors.SafetensorsFile.open(
                dir.resolve("out/cfg.safetensors"))) {
            assertEquals("4", f.metadata().get("ss_network_dim"));
            assertTrue(f.metadata().get("ss_network_args").contains("loraplus_lr_ratio"), f.metadata().toString());
        }
        Files.writeString(dir.resolve("bad.toml"), "[training]\nmax_steps = 2\n");
        CliRun bad = CliRun.run("train", "--config_file", dir.resolve("bad.toml").toString(), "--dataset_config", toml.toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("bad.toml: unknown flag 'max_steps'"), bad.err());
        Files.writeString(dir.resolve("deep.toml"), "[training.inner]\nseed = 2\n");
        CliRun deep = CliRun.run("train", "--config_file", dir.resolve("deep.toml").toString(), "--dataset_config", toml.toString());
        assertEquals(2, deep.code(), deep.err());
        assertTrue(deep.err().contains("[training.inner] is a table inside a table"), deep.err());
    }

    /**
     * --metadata_* set the model-spec keys as upstream's build_metadata does, and --no_metadata keeps them beside the
     * minimum ss_ keys (upstream adds them to the minimum set); a resolution that is not W,H is refused.
     */
    @Test
    void metadata_flags_set_the_model_spec(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        CliRun r = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--network_dim", "4",
                "--max_train_steps", "1", "--seed", "1", "--output_dir", dir.resolve("out").toString(), "--output_name", "m",
                "--metadata_title", "Corgi", "--metadata_author", "Ann", "--metadata_tags", "dog,corgi", "--metadata_reso",
                "832,480", "--metadata_arch", "wan2.2", "--no_metadata");
        assertEquals(0, r.code(), r.err());
        try (dev.loraid.tensor.safetensors.SafetensorsFile f = dev.loraid.tensor.safetensors.SafetensorsFile.open(
                dir.resolve("out/m.safetensors"))) {
            java.util.Map<String, String> m = f.metadata();
            assertEquals("Corgi", m.get("modelspec.title"));
            assertEquals("Ann", m.get("modelspec.author"));
            assertEquals("dog,corgi", m.get("modelspec.tags"));
            assertEquals("832x480", m.get("modelspec.resolution"));
            assertEquals("wan2.2/lora", m.get("modelspec.architecture"));
            assertFalse(m.containsKey("modelspec.license"), m.toString());
            assertEquals("4", m.get("ss_network_dim"));
            assertFalse(m.containsKey("ss_learning_rate"), "--no_metadata keeps only the minimum ss_ keys: " + m);
        }
        CliRun bad = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--metadata_reso", "wide",
                "--output_dir", dir.resolve("bad").toString(), "--output_name", "bad");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--metadata_reso must be W,H or one number, got 'wide'"), bad.err());
    }

    /** Adafactor as upstream's docs set it for a fixed rate: relative steps off, warmup schedule, no gradient clipping. */
    @Test
    void adafactor_with_a_fixed_rate_runs(@TempDir Path dir) throws Exception {
        Path toml = dataset(dir);
        CliRun r = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--optimizer_type",
                "adafactor", "--optimizer_args", "relative_step=False", "scale_parameter=False", "warmup_init=False",
                "--learning_rate", "1e-3", "--lr_scheduler", "constant_with_warmup", "--lr_warmup_steps", "2",
                "--max_grad_norm", "0", "--network_dim", "4", "--max_train_steps", "3", "--seed", "1",
                "--output_dir", dir.resolve("out").toString(), "--output_name", "ada");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(dir.resolve("out").resolve("ada.safetensors")), r.err());
        assertFalse(r.err().contains("upstream suggests"), "no advice for upstream's recommended settings: " + r.err());
        CliRun bad = CliRun.run("train", "--dit", TINY.toString(), "--dataset_config", toml.toString(), "--optimizer_type",
                "adafactor", "--optimizer_args", "relative_step=false", "--output_dir", dir.resolve("bad").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--optimizer_args relative_step=false: expected True or False"), bad.err());
    }

    @Test
    void help_lists_the_flags_with_their_defaults() {
        CliRun r = CliRun.run("train", "--help");
        assertEquals(0, r.code());
        for (String f : List.of("--timestep_sampling", "sigma (default)", "--network_dim", "default 4", "--learning_rate", "2e-6",
                "--max_train_steps", "1600", "--LORAID", "--resume", "--blocks_to_swap", "default 0 = off")) {
            assertTrue(r.out().contains(f), f);
        }
    }
}
