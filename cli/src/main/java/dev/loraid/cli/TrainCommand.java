package dev.loraid.cli;

import dev.loraid.core.lora.NetworkModule;
import dev.loraid.core.LoraidException;
import dev.loraid.core.ParameterText;
import dev.loraid.core.generate.Umt5TextEncoder;
import dev.loraid.core.plan.BlockCount;
import dev.loraid.autograd.optim.LrSchedules;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.train.BaseWeights;
import dev.loraid.core.train.LogConfig;
import dev.loraid.core.train.ModelSpec;
import dev.loraid.core.train.MixedPrecision;
import dev.loraid.core.train.NetworkConfig;
import dev.loraid.core.train.OptimizerConfig;
import dev.loraid.core.train.SampleConfig;
import dev.loraid.core.train.SaveConfig;
import dev.loraid.core.train.TimestepConfig;
import dev.loraid.core.train.TimestepSampling;
import dev.loraid.core.train.TrainConfig;
import dev.loraid.core.train.TrainListener;
import dev.loraid.core.train.Trainer;
import dev.loraid.core.train.WeightingScheme;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.wan.quant.Fp8Load;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.OptionalInt;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code loraid train}: musubi-tuner's {@code wan_train_network.py} flags (training.md §9, same names and defaults)
 * mapped onto a {@link TrainConfig}; {@link Trainer} does the work, this class draws the progress bar.
 */
final class TrainCommand extends OptionsCommand {
    private static final int MAX = Integer.MAX_VALUE;
    private static final double INF = Double.MAX_VALUE;
    /** Flags of upstream's command lines that change nothing here: accepted so commands carry over, with a notice. */
    /** (torch.compile's flags among them: a graph compiler for PyTorch's ops; the Java kernels have nothing to compile.) */
    /** Upstream's other flags (wan_train_network.py's parser): see {@link UpstreamFlags}. */
    private static final UpstreamFlags UPSTREAM = new UpstreamFlags(
            List.of("sdpa", "flash_attn", "flash3", "xformers", "split_attn", "sage_attn", "persistent_data_loader_workers",
                    "cuda_allow_tf32", "cuda_cudnn_benchmark", "vae_cache_cpu", "compile", "compile_fullgraph",
                    "dynamo_fullgraph", "ddp_gradient_as_bucket_view", "ddp_static_graph", "disable_numpy_memmap",
                    "img_in_txt_in_offloading", "log_config", "fp8_t5",
                    // block swap here keeps host copies and never copies a block back (what these tune upstream)
                    "use_pinned_memory_for_block_swap", "block_swap_h2d_only",
                    // a uniform timestep is embedded once per sample already (the memory this saves upstream)
                    "force_v2_1_time_embedding"),
            List.of("vae_dtype", "compile_backend", "compile_mode", "compile_dynamic",
                    "compile_cache_size_limit", "dynamo_backend", "dynamo_mode", "dynamo_dynamic", "ddp_timeout",
                    "block_swap_ring_size", "log_tracker_config"),
            refusedFlags());

    private static Map<String, String> refusedFlags() {
        Map<String, String> refused = new LinkedHashMap<>();
        for (String f : List.of("resume_from_huggingface", "huggingface_repo_id", "huggingface_repo_type",
                "huggingface_path_in_repo", "huggingface_token", "huggingface_repo_visibility", "save_state_to_huggingface",
                "async_upload")) {
            refused.put(f, "no Hugging Face Hub access");
        }
        refused.put("wandb_api_key", "wandb needs its service; --logging_dir writes TensorBoard events");
        refused.put("wandb_run_name", "wandb needs its service; --logging_dir writes TensorBoard events");
        refused.put("full_bf16", "LoRA weights, gradients and optimizer state stay fp32 here");
        refused.put("full_fp16", "LoRA weights, gradients and optimizer state stay fp32 here");
        refused.put("show_timesteps", "the timestep sampler's debug view is not built");
        return refused;
    }

    @Override
    public String name() {
        return "train";
    }

    @Override
    boolean readsConfigFile() {
        return true;
    }

    @Override
    public String summary() {
        return "train a LoRA (or one LORAID slice) on cached latents and text embeddings";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(CliArgs.value("dit", "FILE", "DiT checkpoint (the low-noise expert for Wan 2.2 A14B)"));
        o.addOption(CliArgs.value("dit_high_noise", "FILE", "Wan 2.2 A14B high-noise expert: both experts train one LoRA"));
        o.addOption(CliArgs.value("timestep_boundary", "B", "A14B switch point, 0..1 or 0..1000 (default: the task's, 875 / 900)"));
        o.addOption(CliArgs.flag("offload_inactive_dit", "keep the expert not in use off the GPU"));
        o.addOption(CliArgs.flag("fp8_base", "store the frozen DiT's block Linear weights as fp8 (E4M3) when loading, "
                + "without a scale (an fp8 file is used as stored)"));
        o.addOption(CliArgs.flag("fp8_scaled", "with --fp8_base: quantise block-wise (64 inputs per scale) instead; needs a "
                + "bf16/fp16/fp32 DiT"));
        o.addOption(CliArgs.value("blocks_to_swap", "N", "keep N blocks' weights in host memory, copied to the device around "
                + "their forward and backward (on CUDA on a copy stream), "
                + "0..blocks−1 (default 0 = off; Wan 14B up to 39, 1.3B up to 29)"));
        o.addOption(CliArgs.value("task", "TASK", "Wan task, e.g. t2v-1.3B, t2v-A14B (default: inferred from the checkpoint)"));
        o.addOption(CliArgs.value("dataset_config", "FILE", "dataset config, TOML or JSON (musubi-tuner's format)"));
        o.addOption(CliArgs.value("validation_dataset_config", "FILE", "validation dataset: loss at fixed σ and fixed noise"));
        o.addOption(CliArgs.value("validate_every_n_steps", "N", "validation interval in steps, ≥ 1 (with --validation_dataset_config; default 100)"));
        o.addOption(CliArgs.value("network_module", "M", "networks.lora_wan (LoRA, default), networks.loha (LoHa) or networks.lokr "
                + "(LoKr; network_args factor=N, default -1 = balanced)"));
        o.addOption(CliArgs.value("network_dim", "R", "rank (LoRA, LoHa, LoKr), 1..65536 (default 4)"));
        o.addOption(CliArgs.value("network_alpha", "A", "LoRA alpha ≥ 0; scale = alpha / rank (default 1)"));
        o.addOption(CliArgs.value("network_dropout", "P", "neuron dropout on the down projection, in [0, 1) (default none)"));
        o.addOption(CliArgs.values("network_args", "K=V", "include_patterns=[...] exclude_patterns=[...] rank_dropout= "
                + "module_dropout= (both in [0, 1)) loraplus_lr_ratio= (> 0) verbose=True factor= (LoKr, integer)"));
        o.addOption(CliArgs.value("network_weights", "FILE", "start from this LoRA (LoHa, LoKr) file"));
        o.addOption(CliArgs.flag("dim_from_weights", "take rank and alpha from --network_weights"));
        o.addOption(CliArgs.values("base_weights", "FILE", "LoRA files merged into the DiT before training, in order, before "
                + "any fp8 quantisation (not with --dit_high_noise)"));
        o.addOption(CliArgs.values("base_weights_multiplier", "M", "one multiplier per --base_weights file (default 1.0 each)"));
        o.addOption(CliArgs.value("scale_weight_norms", "N", "max-norm regularisation of every module's delta W, > 0"));
        o.addOption(CliArgs.values("LORAID", "ID", "train LORAID ID ≥ 1: only its block slice (one ID)"));
        o.addOption(CliArgs.values("loraid", "ID", "alias of --LORAID"));
        o.addOption(CliArgs.value("blocks_per_loraid", "P", "blocks per LORAID, 1..10000 (default 12)"));
        o.addOption(CliArgs.value("optimizer_type", "NAME", "AdamW (default), AdamW8bit or PagedAdamW8bit (bitsandbytes': 8-bit moments), Adafactor "
                + "(transformers'), prodigyopt.Prodigy (Prodigy 1.1.2; give --learning_rate 1), schedulefree.AdamWScheduleFree (no "
                + "--lr_scheduler) or lion_pytorch.Lion"));
        o.addOption(CliArgs.values("optimizer_args", "K=V", "AdamW: weight_decay=0.01 (≥ 0) betas=(0.9,0.999) (each in [0, 1)) eps=1e-8 (> 0); Adafactor: "
                + "relative_step=True scale_parameter=True warmup_init=False eps=(1e-30,1e-3) clip_threshold=1.0 decay_rate=-0.8 "
                + "beta1=None weight_decay=0.0; Prodigy: betas=(0.9,0.999) beta3=None weight_decay=0 decouple=True "
                + "use_bias_correction=False safeguard_warmup=False d0=1e-6 d_coef=1.0 growth_rate=inf slice_p=1; "
                + "AdamWScheduleFree: betas=(0.9,0.999) eps=1e-8 weight_decay=0 warmup_steps=0 r=0 weight_lr_power=2 inner_momentum=0; "
                + "Lion: betas=(0.9,0.99) weight_decay=0 decoupled_weight_decay=False"));
        o.addOption(CliArgs.value("learning_rate", "LR", "learning rate, > 0 (default 2e-6)"));
        o.addOption(CliArgs.value("lr_scheduler", "NAME", "constant (default), constant_with_warmup, linear, cosine, "
                + "cosine_with_restarts, polynomial, cosine_with_min_lr, inverse_sqrt, warmup_stable_decay, piecewise_constant, rex"));
        o.addOption(CliArgs.value("lr_warmup_steps", "N", "warmup steps: a count ≥ 0, a ratio in [0, 1) of the steps, or 0%..100% (default 0)"));
        o.addOption(CliArgs.value("lr_decay_steps", "N", "decay steps of warmup_stable_decay: a count ≥ 0, a ratio in [0, 1) or 0%..100% (default 0)"));
        o.addOption(CliArgs.value("lr_scheduler_num_cycles", "N", "cycles of cosine_with_restarts, ≥ 1 (default 1)"));
        o.addOption(CliArgs.value("lr_scheduler_power", "P", "power of polynomial, ≥ 0 (default 1)"));
        o.addOption(CliArgs.value("lr_scheduler_min_lr_ratio", "R", "min lr ratio of cosine_with_min_lr / warmup_stable_decay / rex, in [0, 1]"));
        o.addOption(CliArgs.value("lr_scheduler_timescale", "N", "timescale of inverse_sqrt, ≥ 1 (default: warmup steps)"));
        o.addOption(CliArgs.values("lr_scheduler_args", "K=V", "step_rules=... for piecewise_constant; with --lr_scheduler_type, "
                + "that class's keyword arguments (e.g. T_max=1000 eta_min=1e-6)"));
        o.addOption(CliArgs.value("lr_scheduler_type", "CLASS", "a torch.optim.lr_scheduler class instead of --lr_scheduler: "
                + "StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR, "
                + "CosineAnnealingWarmRestarts (built from --lr_scheduler_args alone, as upstream)"));
        o.addOption(CliArgs.value("max_grad_norm", "N", "clip the global gradient norm, ≥ 0 (default 1.0; 0 = off)"));
        o.addOption(CliArgs.value("gradient_accumulation_steps", "N", "micro-batches per update, ≥ 1 (default 1)"));
        o.addOption(CliArgs.value("max_train_steps", "N", "optimizer updates, ≥ 1 (default 1600)"));
        o.addOption(CliArgs.value("max_train_epochs", "N", "epochs, ≥ 1; overrides --max_train_steps"));
        o.addOption(CliArgs.flag("gradient_checkpointing", "recompute each block's activations in the backward pass"));
        o.addOption(CliArgs.flag("gradient_checkpointing_cpu_offload", "with --gradient_checkpointing on a GPU: keep each "
                + "block's checkpointed input in host memory until the backward pass (copied beside the compute); on the CPU "
                + "they are in host memory anyway"));
        o.addOption(CliArgs.value("mixed_precision", "P", "no, fp16 or bf16: the DiT's activation dtype (fp32 norms, statistics and residual stream; LoRA weights fp32)"));
        o.addOption(CliArgs.deviceOption());
        o.addOption(CliArgs.allowNonFinite());
        o.addOption(CliArgs.value("seed", "N", "seed of every random stream, 0..2^63-1 (default: random)"));
        o.addOption(CliArgs.value("timestep_sampling", "MODE", "sigma (default), uniform, sigmoid, shift, flux_shift, flux2_shift, "
                + "qwen_shift, krea2_shift, logsnr, qinglong_flux, qinglong_qwen"));
        o.addOption(CliArgs.value("discrete_flow_shift", "S", "shift of the shift mode, > 0 (default 1.0; Wan docs use 3.0)"));
        o.addOption(CliArgs.value("sigmoid_scale", "S", "scale of the sigmoid and shift modes, any finite number (default 1.0)"));
        o.addOption(CliArgs.value("weighting_scheme", "W", "none (default), logit_normal, mode, cosmap, sigma_sqrt"));
        o.addOption(CliArgs.value("logit_mean", "M", "mean of logit_normal / logsnr, any finite number (default 0.0)"));
        o.addOption(CliArgs.value("logit_std", "S", "std of logit_normal / logsnr, > 0 (default 1.0)"));
        o.addOption(CliArgs.value("mode_scale", "S", "scale of the mode weighting, any finite number (default 1.29)"));
        o.addOption(CliArgs.value("min_timestep", "T", "0..1000 (default 0)"));
        o.addOption(CliArgs.value("max_timestep", "T", "0..1000 (default 1000)"));
        o.addOption(CliArgs.flag("preserve_distribution_shape", "rejection-sample into [min, max] instead of squeezing"));
        o.addOption(CliArgs.value("num_timestep_buckets", "N", "stratified timesteps over N intervals, 0..1000 (≤ 1: off)"));
        o.addOption(CliArgs.value("guidance_scale", "G", "≥ 0, recorded only (HunyuanVideo's; ignored for Wan)"));
        o.addOption(CliArgs.value("output_dir", "DIR", "where LoRA files, states and the log go"));
        o.addOption(CliArgs.value("output_name", "NAME", "file name stem of the outputs"));
        o.addOption(CliArgs.value("save_every_n_steps", "N", "save <name>-stepNNNNNNNN.safetensors every N ≥ 1 steps"));
        o.addOption(CliArgs.value("save_every_n_epochs", "N", "save <name>-NNNNNN.safetensors every N ≥ 1 epochs"));
        o.addOption(CliArgs.value("save_last_n_steps", "N", "keep the step files of the last N ≥ 1 steps only"));
        o.addOption(CliArgs.value("save_last_n_steps_state", "N", "same for step states, ≥ 1 (default: --save_last_n_steps)"));
        o.addOption(CliArgs.value("save_last_n_epochs", "N", "keep the last N ≥ 1 epoch files only"));
        o.addOption(CliArgs.value("save_last_n_epochs_state", "N", "same for epoch states, ≥ 1"));
        o.addOption(CliArgs.flag("save_state", "also save a resumable state folder with every LoRA file"));
        o.addOption(CliArgs.flag("save_state_on_train_end", "save the final state folder only"));
        o.addOption(CliArgs.value("resume", "DIR", "continue from a state folder (bit-identical to an uninterrupted run)"));
        o.addOption(CliArgs.value("save_precision", "P", "float (default), fp16 or bf16"));
        o.addOption(CliArgs.flag("no_metadata", "write only the minimum metadata"));
        o.addOption(CliArgs.value("training_comment", "TEXT", "stored as ss_training_comment"));
        for (String[] m : new String[][] {{"title", "modelspec.title (default: --output_name)"}, {"author", "modelspec.author"},
                {"description", "modelspec.description"}, {"license", "modelspec.license"},
                {"tags", "modelspec.tags, comma-separated"}, {"reso", "modelspec.resolution as W,H (default 1280,720)"},
                {"arch", "replaces wan2.1 in modelspec.architecture"}}) {
            o.addOption(CliArgs.value("metadata_" + m[0], "TEXT", m[1] + " (kept under --no_metadata, as upstream)"));
        }
        o.addOption(CliArgs.value("vae", "FILE", "Wan VAE: decodes the samples (else a latent projection); recorded as ss_vae_name"));
        o.addOption(CliArgs.value("vae_latent_stats", "FILE", "latents_mean / latents_std for a VAE whose latent width is not 16"));
        o.addOption(CliArgs.value("clip", "FILE", "Wan's CLIP file: the start images' CLIP tokens of Wan 2.1 I2V samples"));
        o.addOption(CliArgs.value("logging_dir", "DIR", "TensorBoard event files: each run writes "
                + "DIR/<log_prefix><yyyyMMddHHmmss>/<log_tracker_name>/events.out.tfevents.* (loss/current, loss/average, "
                + "lr/unet, loss/epoch, as upstream; loss/validation)"));
        o.addOption(CliArgs.value("log_with", "TRACKER", "tensorboard (the default with --logging_dir); wandb is not supported"));
        o.addOption(CliArgs.value("log_prefix", "TEXT", "put before each run's timestamp folder under --logging_dir"));
        o.addOption(CliArgs.value("log_tracker_name", "NAME", "the run folder's tracker sub-folder (default: "
                + LogConfig.DEFAULT_TRACKER + ")"));
        o.addOption(CliArgs.flag("one_frame", "samples run one-frame inference (musubi docs/wan_1f.md): each prompt gives "
                + "--of target_index=N,control_index=A and its control images --ci"));
        o.addOption(CliArgs.value("sample_prompts", "FILE", "prompts to sample during training (.txt with --w --h --f --d --s --l "
                + "--fs --n options, .toml, .json); needs --t5 and --tokenizer"));
        o.addOption(CliArgs.value("sample_every_n_steps", "N", "sample every N ≥ 1 steps"));
        o.addOption(CliArgs.value("sample_every_n_epochs", "N", "sample at the end of every N-th epoch, N ≥ 1"));
        o.addOption(CliArgs.flag("sample_at_first", "sample once before the first step"));
        o.addOption(CliArgs.value("t5", "FILE", "UMT5 encoder weights for the sample prompts (.safetensors or .pth)"));
        o.addOption(CliArgs.value("tokenizer", "FILE", "UMT5 tokenizer.json or spiece.model (or their folder) for the sample prompts"));
        o.addOption(CliArgs.flag("quiet", "no progress bar or info lines"));
        UPSTREAM.addTo(o);
        o.addOption(CliArgs.value("max_data_loader_n_workers", "N", "an integer ≥ 0, accepted for musubi-tuner compatibility; "
                + "batches are read on the training thread"));
        return o;
    }

    @Override
    String usage() {
        return "loraid train --dit DIT --dataset_config DS.toml --output_dir DIR --output_name NAME [options]";
    }

    /** --base_weights FILE… with --base_weights_multiplier M… (training.md §2.7). */
    private static BaseWeights baseWeights(CommandLine cl) {
        List<Path> files = CliArgs.files(cl, "base_weights").stream().map(Path::of).toList();
        for (Path f : files) {
            LoraFiles.checkInputFile(f, "--base_weights");
        }
        List<Double> multipliers = new ArrayList<>();
        for (String token : CliArgs.all(cl, "base_weights_multiplier")) {
            for (String v : token.split(",")) { // comma-separated or not, as --lora_multiplier
                try {
                    multipliers.add(Double.parseDouble(v.strip()));
                } catch (NumberFormatException e) {
                    throw new UsageException("--base_weights_multiplier expects numbers, got '" + v + "'");
                }
            }
        }
        if (files.isEmpty() && !multipliers.isEmpty()) {
            throw new UsageException("--base_weights_multiplier needs --base_weights");
        }
        return new BaseWeights(files, multipliers);
    }

    /** --fp8_base / --fp8_scaled (training.md §3.4: fp8_scaled requires fp8_base). */
    private static Fp8Load fp8(CommandLine cl) {
        if (cl.hasOption("fp8_scaled") && !cl.hasOption("fp8_base")) {
            throw new UsageException("--fp8_scaled needs --fp8_base (as upstream)");
        }
        return cl.hasOption("fp8_scaled") ? Fp8Load.SCALED : cl.hasOption("fp8_base") ? Fp8Load.CAST : Fp8Load.NONE;
    }

    @Override
    String helpHeader() {
        return "Flow-matching LoRA training with musubi-tuner's flags and defaults; --LORAID trains one block slice.";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        CliArgs.noArguments(cl);
        UPSTREAM.refuse(cl);
        try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"))) {
            UPSTREAM.notices(cl).forEach(reporter::info);
            if (cl.hasOption("gradient_checkpointing_cpu_offload") && !cl.hasOption("gradient_checkpointing")) {
                reporter.warn("--gradient_checkpointing_cpu_offload has no effect without --gradient_checkpointing (as upstream)");
            } else if (cl.hasOption("gradient_checkpointing_cpu_offload") && CliArgs.device(cl).isCpu()) {
                reporter.info("--gradient_checkpointing_cpu_offload: training on the CPU, the checkpointed activations are in "
                        + "host memory already");
            }
            TrainConfig config;
            try {
                config = config(cl, reporter);
            } catch (IllegalArgumentException | LoraidException e) { // a flag's value breaks a rule of the library
                throw new UsageException(CliFlags.message(e));
            }
            Progress progress = new Progress(reporter, cl.hasOption("quiet"));
            Trainer.Result r;
            try {
                r = Trainer.run(config, progress);
            } finally {
                progress.close();
            }
            out.printf(Locale.ROOT, "trained %d steps, last loss %.6f: %s%n", r.steps(), r.lastLoss(), r.lora());
            return 0;
        }
    }

    private static TrainConfig config(CommandLine cl, CliReporter reporter) {
        OptionalInt id = LoraidArgs.trainingLoraid(CliArgs.loraids(cl, 0, reporter).orElse(List.of()));
        CliArgs.integer(cl, "max_data_loader_n_workers", 0, MAX); // no effect here, but a bad value is still an error
        NetworkConfig network = new NetworkConfig(NetworkModule.of(cl.getOptionValue("network_module", "networks.lora_wan")),
                intOr(cl, "network_dim", 1, 1 << 16, 4), numberOr(cl, "network_alpha", 0, INF, 1.0),
                numberOr(cl, "network_dropout", 0, 1, 0.0), CliArgs.all(cl, "network_args"), CliArgs.path(cl, "network_weights"),
                cl.hasOption("dim_from_weights"), CliArgs.number(cl, "scale_weight_norms"), id.isPresent() ? id.getAsInt() : null,
                intOr(cl, "blocks_per_loraid", 1, BlockCount.MAX_BLOCKS, 12));
        String schedulerType = cl.getOptionValue("lr_scheduler_type");
        String stepRules = null;
        for (String a : schedulerType != null ? List.<String>of() : CliArgs.all(cl, "lr_scheduler_args")) {
            if (!a.startsWith("step_rules=")) {
                throw new IllegalArgumentException("--lr_scheduler_args: only step_rules=... is taken (by piecewise_constant) "
                        + "without --lr_scheduler_type, got " + a);
            }
            stepRules = a.substring("step_rules=".length());
        }
        OptimizerConfig optimizer = new OptimizerConfig(cl.getOptionValue("optimizer_type", "AdamW"), CliArgs.all(cl, "optimizer_args"),
                numberOr(cl, "learning_rate", 0, INF, 2e-6), cl.getOptionValue("lr_scheduler", "constant"),
                steps(cl, "lr_warmup_steps"), steps(cl, "lr_decay_steps"),
                intOr(cl, "lr_scheduler_num_cycles", 1, MAX, 1), numberOr(cl, "lr_scheduler_power", 0, INF, 1.0),
                CliArgs.number(cl, "lr_scheduler_min_lr_ratio", 0, 1), CliArgs.integer(cl, "lr_scheduler_timescale", 1, MAX), stepRules,
                numberOr(cl, "max_grad_norm", 0, INF, 1.0), schedulerType,
                schedulerType == null ? List.of() : CliArgs.all(cl, "lr_scheduler_args"));
        CliArgs.number(cl, "guidance_scale", 0, INF); // recorded only
        TimestepConfig timesteps = new TimestepConfig(TimestepSampling.parse(cl.getOptionValue("timestep_sampling", "sigma")),
                numberOr(cl, "discrete_flow_shift", 0, INF, 1.0), numberOr(cl, "sigmoid_scale", -INF, INF, 1.0),
                WeightingScheme.parse(cl.getOptionValue("weighting_scheme", "none")), numberOr(cl, "logit_mean", -INF, INF, 0.0),
                numberOr(cl, "logit_std", 0, INF, 1.0), numberOr(cl, "mode_scale", -INF, INF, 1.29), CliArgs.integer(cl, "min_timestep", 0, 1000),
                CliArgs.integer(cl, "max_timestep", 0, 1000), cl.hasOption("preserve_distribution_shape"),
                CliArgs.integer(cl, "num_timestep_buckets", 0, 1000));
        SaveConfig save = new SaveConfig(CliArgs.requiredPath(cl, "output_dir"), required(cl, "output_name"),
                CliArgs.integer(cl, "save_every_n_steps", 1, MAX), CliArgs.integer(cl, "save_every_n_epochs", 1, MAX),
                CliArgs.integer(cl, "save_last_n_steps", 1, MAX), CliArgs.integer(cl, "save_last_n_steps_state", 1, MAX),
                CliArgs.integer(cl, "save_last_n_epochs", 1, MAX), CliArgs.integer(cl, "save_last_n_epochs_state", 1, MAX),
                cl.hasOption("save_state"),
                cl.hasOption("save_state_on_train_end"), savePrecision(cl.getOptionValue("save_precision", "float")),
                cl.hasOption("no_metadata"), cl.getOptionValue("training_comment"), new ModelSpec(
                cl.getOptionValue("metadata_title"), cl.getOptionValue("metadata_author"),
                cl.getOptionValue("metadata_description"), cl.getOptionValue("metadata_license"),
                cl.getOptionValue("metadata_tags"), cl.getOptionValue("metadata_reso"), cl.getOptionValue("metadata_arch")));
        TrainConfig.Validation validation = null;
        if (cl.hasOption("validation_dataset_config")) {
            validation = new TrainConfig.Validation(CliArgs.requiredPath(cl, "validation_dataset_config"),
                    intOr(cl, "validate_every_n_steps", 1, MAX, 100));
        } else if (cl.hasOption("validate_every_n_steps")) {
            throw new UsageException("--validate_every_n_steps needs --validation_dataset_config");
        }
        Long seed = CliArgs.seed(cl);
        long seedValue;
        if (seed == null) {
            seedValue = new SecureRandom().nextInt() & 0xffffffffL; // upstream draws seeds up to 2^32
            reporter.info("--seed not given: using " + seedValue);
        } else {
            seedValue = seed;
        }
        SampleConfig sampling = null;
        if (cl.hasOption("sample_prompts")) {
            Path t5 = CliArgs.requiredPath(cl, "t5");
            Path tokenizer = CliArgs.requiredPath(cl, "tokenizer");
            Device device = CliArgs.device(cl);
            sampling = new SampleConfig(CliArgs.path(cl, "sample_prompts"), CliArgs.integer(cl, "sample_every_n_steps", 1, MAX),
                    CliArgs.integer(cl, "sample_every_n_epochs", 1, MAX), cl.hasOption("sample_at_first"),
                    textLen -> Umt5TextEncoder.open(t5, tokenizer, textLen, device), CliArgs.path(cl, "vae_latent_stats"),
                    CliArgs.path(cl, "clip"), cl.hasOption("one_frame"));
        } else if (cl.hasOption("sample_every_n_steps") || cl.hasOption("sample_every_n_epochs") || cl.hasOption("sample_at_first")) {
            throw new UsageException("--sample_every_n_steps, --sample_every_n_epochs and --sample_at_first need --sample_prompts");
        }
        return new TrainConfig(CliArgs.requiredPath(cl, "dit"), CliArgs.path(cl, "dit_high_noise"), CliArgs.number(cl, "timestep_boundary", 0, 1000),
                cl.hasOption("offload_inactive_dit"), cl.getOptionValue("task"), CliArgs.requiredPath(cl, "dataset_config"),
                Path.of("").toAbsolutePath(), CliArgs.device(cl), MixedPrecision.parse(cl.getOptionValue("mixed_precision", "no")),
                cl.hasOption("gradient_checkpointing"), network, optimizer, timesteps, intOr(cl, "max_train_steps", 1, MAX, 1600),
                CliArgs.integer(cl, "max_train_epochs", 1, MAX), intOr(cl, "gradient_accumulation_steps", 1, MAX, 1), seedValue, save, validation,
                CliArgs.path(cl, "resume"), CliArgs.path(cl, "vae"), sampling, fp8(cl),
                intOr(cl, "blocks_to_swap", 0, BlockCount.MAX_BLOCKS - 1, 0), baseWeights(cl), logging(cl),
                cl.hasOption("gradient_checkpointing_cpu_offload"));
    }

    /**
     * TensorBoard logging as upstream's trackers choose it: --logging_dir alone means tensorboard, --log_with tensorboard
     * needs --logging_dir; wandb is refused (no hub client here).
     */
    private static LogConfig logging(CommandLine cl) {
        String with = cl.getOptionValue("log_with");
        Path dir = CliArgs.path(cl, "logging_dir");
        if (with != null && !with.equals("tensorboard")) {
            throw new UsageException("--log_with " + with + " is not supported: only tensorboard (wandb needs its service)");
        }
        if (with != null && dir == null) {
            throw new UsageException("--log_with tensorboard needs --logging_dir");
        }
        if (dir == null) {
            for (String f : new String[] {"log_prefix", "log_tracker_name"}) {
                if (cl.hasOption(f)) {
                    throw new UsageException("--" + f + " needs --logging_dir");
                }
            }
            return null;
        }
        return new LogConfig(dir, cl.getOptionValue("log_prefix"), cl.getOptionValue("log_tracker_name"));
    }

    private static DType savePrecision(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "float", "fp32", "float32" -> DType.F32;
            case "fp16", "float16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new UsageException("--save_precision must be float, fp16 or bf16, got '" + v + "'");
        };
    }

    private static String required(CommandLine cl, String name) {
        String v = cl.getOptionValue(name);
        if (v == null) {
            throw new UsageException("--" + name + " is required");
        }
        return v;
    }

    private static int intOr(CommandLine cl, String name, int min, int max, int dflt) {
        Integer v = CliArgs.integer(cl, name, min, max);
        return v == null ? dflt : v;
    }

    private static double numberOr(CommandLine cl, String name, double min, double max, double dflt) {
        Double v = CliArgs.number(cl, name, min, max);
        return v == null ? dflt : v;
    }

    /** --lr_warmup_steps / --lr_decay_steps: a count ≥ 0, a ratio in [0, 1) of the steps, or a percentage 0%..100%. */
    private static String steps(CommandLine cl, String name) {
        String v = cl.getOptionValue(name, "0");
        try {
            LrSchedules.parseSteps(v, 1);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + name + ": " + e.getMessage());
        }
        return v;
    }

    /** The training progress bar: step/total, rate and ETA, then loss, smoothed loss and lr. */
    private static final class Progress implements TrainListener {
        private final CliReporter reporter;
        private final boolean quiet;
        private ProgressBar bar;

        Progress(CliReporter reporter, boolean quiet) {
            this.reporter = reporter;
            this.quiet = quiet;
        }

        @Override
        public void info(String message) {
            if (bar != null) {
                bar.clearLine();
            }
            reporter.info(message);
        }

        @Override
        public void warn(String message) {
            if (bar != null) {
                bar.clearLine();
            }
            reporter.warn(message);
        }

        @Override
        public void info(ParameterText message) {
            info(CliFlags.render(message));
        }

        @Override
        public void warn(ParameterText message) {
            warn(CliFlags.render(message));
        }

        @Override
        public void started(Plan plan) {
            reporter.info(String.format(Locale.ROOT, "training %d %s modules (%,d parameters) on %d items, %d batches per epoch: "
                    + "%d steps in %d epoch(s)%s", plan.loraModules(), plan.network().label(), plan.loraParameters(), plan.trainItems(), plan.batchesPerEpoch(),
                    plan.totalSteps(), plan.epochs(), plan.firstStep() > 0 ? ", from step " + plan.firstStep() : ""));
            bar = ProgressBar.create(plan.firstStep() > 0 ? "training (from step " + plan.firstStep() + ")" : "training",
                    plan.totalSteps() - plan.firstStep(), "steps", quiet);
        }

        @Override
        public void stepped(Step s) {
            bar.detail(String.format(Locale.ROOT, "epoch %d  loss %.4f  avr_loss %.4f  lr %.3g", s.epoch(), s.loss(), s.avrLoss(), s.lr()));
            bar.step(1);
        }

        @Override
        public void validated(long step, double valLoss) {
            info(String.format(Locale.ROOT, "step %d: val_loss %.6f", step, valLoss));
        }

        @Override
        public void saved(Path path) {
            info("saved " + path);
        }

        void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
