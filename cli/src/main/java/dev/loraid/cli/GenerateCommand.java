package dev.loraid.cli;

import dev.loraid.core.generate.FrameRenderer;
import dev.loraid.core.generate.ExpertResidency;
import dev.loraid.core.generate.GenerateOutputs;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.core.generate.NegativePrompts;
import dev.loraid.core.generate.VaeFrames;
import dev.loraid.core.generate.Umt5TextEncoder;
import dev.loraid.core.generate.GenerateResult;
import dev.loraid.core.generate.Generator;
import dev.loraid.core.generate.LoraSelection;
import dev.loraid.core.generate.OutputType;
import dev.loraid.core.generate.SamplePrompts;
import dev.loraid.core.plan.BlockCount;
import dev.loraid.core.train.MixedPrecision;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.quant.Fp8Load;
import dev.loraid.wan.sample.CfgSkipMode;
import dev.loraid.wan.sample.SkipLayerGuidance;
import dev.loraid.wan.sample.SolverKind;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@code loraid generate}: text-to-video (and, with {@code --image_path}, image-to-video) sampling with a Wan DiT,
 * upstream's wan_generate_video.py flags and defaults (spec training.md §6.3). The text comes from {@code --prompt} through
 * the Java UMT5 ({@code --t5}, {@code --tokenizer}) or as precomputed embeddings ({@code --text_embeds}); images are
 * decoded by the Java Wan VAE ({@code --vae}) or, without one, a fixed projection of the latent (core
 * {@code LatentPreview}).
 */
final class GenerateCommand extends OptionsCommand {
    /** Upper bounds of --video_size and --video_length: far beyond what fits in memory, below int overflow of sizes. */
    private static final int MAX_PIXELS = 16384;
    private static final int MAX_FRAMES = 16385;
    /** Upstream's other flags (wan_generate_video.py's parser): see {@link UpstreamFlags}. */
    static final UpstreamFlags UPSTREAM = new UpstreamFlags(
            List.of("vae_cache_cpu", "fp8_t5", "compile", "disable_numpy_memmap", "use_pinned_memory_for_block_swap",
                    // a uniform timestep is embedded once per sample already (the memory this saves upstream)
                    "force_v2_1_time_embedding"),
            List.of("attn_mode", "vae_dtype", "compile_args"),
            Map.of("video_path", "video-to-video is not supported yet (upstream parses the flag but does not use it)",
                    "fp8_fast", "fp8 GEMMs (scaled_mm) are not used: fp8 weights are widened per call",
                    "control_image_mask_path", "control image masks are not supported (upstream's one-frame inference does "
                            + "not apply them either)",
                    "ckpt_dir", "give the files: --dit, --vae, --t5 and --tokenizer"));

    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "generate a video from a prompt with a Wan DiT (unipc / dpm++ / vanilla, CFG, SLG, A14B, LoRAs as adapters)";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(CliArgs.value("task", "TASK", "Wan task (default t2v-14B): t2v-1.3B, t2v-14B, t2i-14B, t2v-A14B, …"));
        o.addOption(CliArgs.value("dit", "FILE", "DiT checkpoint (the low-noise expert for A14B); required"));
        o.addOption(CliArgs.value("dit_high_noise", "FILE", "A14B high-noise expert"));
        o.addOption(CliArgs.flag("offload_inactive_dit", "A14B: keep only the expert in use on the device, the other on "
                + "the host (both opened at the start)"));
        o.addOption(CliArgs.value("blocks_to_swap", "N", "keep N blocks' weights in host memory, copied to the device "
                + "ahead of their forward (on CUDA on a copy stream), 0..blocks−1 "
                + "(default 0 = off; Wan 14B up to 39, 1.3B up to 29); not with --offload_inactive_dit"));
        o.addOption(CliArgs.value("mixed_precision", "P", "no, fp16 or bf16: the DiT's activation dtype (fp32 norms, "
                + "statistics and residual stream), as train's (default: bf16 on cuda, as upstream's autocast; no on the CPU, "
                + "where bf16 activations do not pay yet)"));
        o.addOption(CliArgs.flag("fp8", "store the DiT's block Linear weights as fp8 (E4M3) when loading, without a scale "
                + "(upstream's --fp8; fp8 files are used as stored either way)"));
        o.addOption(CliArgs.flag("fp8_scaled", "with --fp8: quantise block-wise (64 inputs per scale) instead, as upstream's "
                + "--fp8_scaled; needs a bf16/fp16/fp32 DiT"));
        o.addOption(CliArgs.flag("lazy_loading", "A14B: open each expert (with its LoRAs) when its first step comes and "
                + "close the high-noise one at the switch"));
        o.addOption(CliArgs.value("prompt", "TEXT", "the prompt, encoded with --t5 and --tokenizer (or give --text_embeds)"));
        o.addOption(CliArgs.value("from_file", "FILE", "one generation per prompt of FILE (.txt lines, .toml or .json as for "
                + "--sample_prompts); a line's --w --h --f --d --s --l/--g --fs --n override the command line's values; "
                + "needs --t5 and --tokenizer; the DiT and its LoRAs are loaded once"));
        o.addOption(CliArgs.value("negative_prompt", "TEXT", "the negative prompt (default: the task's sample_neg_prompt)"));
        o.addOption(CliArgs.value("vae", "FILE", "Wan 2.1 VAE (.safetensors or Wan2.1_VAE.pth): images are decoded frames (default: "
                + "a fixed projection of the latent)"));
        o.addOption(CliArgs.value("vae_latent_stats", "FILE", "latents_mean / latents_std for a VAE whose latent width is not 16"));
        o.addOption(CliArgs.value("image_path", "FILE", "start image of an image-to-video task (i2v-14B, i2v-A14B; needs --vae; "
                + "a --from_file line's --i wins): the video takes its aspect ratio at the area of --video_size"));
        o.addOption(CliArgs.value("end_image_path", "FILE", "end image of a first-last-frame task (flf2v-14B; with --image_path, "
                + "--clip and --vae; a --from_file line's --ei wins)"));
        o.addOption(CliArgs.value("control_path", "PATH", "control video (or folder of frames) of a Fun-Control task (with --vae; "
                + "i2v-14B-FC also with --image_path and --clip; t2v-*-FC alone): its first --video_length frames, resized to "
                + "the video; a --from_file line's --cn wins"));
        o.addOption(CliArgs.flag("interactive", "read prompts from standard input, one per line (--from_file's line syntax), "
                + "and generate each as it comes with the models loaded once; end of input ends"));
        o.addOption(CliArgs.flag("lycoris", "the --lora_weight files are LyCORIS files (LoRA, LoHa, LoKr or full): merged into "
                + "the DiT at load, before any fp8 quantisation, as upstream; files with LoHa/LoKr/full tensors are taken so "
                + "without it too"));
        o.addOption(CliArgs.value("one_frame_inference", "SPEC", "one-frame inference (musubi docs/wan_1f.md) for i2v-14B, "
                + "flf2v-14B or i2v-A14B: target_index=N,control_index=A;B (RoPE frame positions); --image_path gives the size "
                + "and CLIP tokens, --control_image_path the control images; one image comes out"));
        o.addOption(Option.builder().longOpt("control_image_path").hasArgs().argName("FILE").desc("one-frame inference's "
                + "control images, one per control_index (they fill the positions in ascending order), resized to the output")
                .build());
        o.addOption(CliArgs.value("trim_tail_frames", "N", "drop the last N decoded frames before saving video or images, ≥ 0 "
                + "(default 0; the tail of an end-image video may be corrupted)"));
        o.addOption(CliArgs.value("clip", "FILE", "Wan's CLIP (models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth): the "
                + "start image's CLIP tokens, which Wan 2.1 i2v-14B takes"));
        o.addOption(CliArgs.value("save_merged_model", "FILE", "merge the --lora_weight files into --dit, write FILE and exit (no "
                + "sampling; the same merge as loraid merge)"));
        o.addOption(CliArgs.value("latent_path", "FILE", "decode a saved <time>_<seed>_latent.safetensors to images and exit "
                + "(no DiT)"));
        o.addOption(CliArgs.value("t5", "FILE", "UMT5 encoder weights (.safetensors or the official .pth), for --prompt"));
        o.addOption(CliArgs.value("tokenizer", "FILE", "UMT5 tokenizer.json or spiece.model (or their folder), for --prompt"));
        o.addOption(CliArgs.value("text_embeds", "FILE", "instead of --prompt: safetensors with context [L, text_dim] (the prompt's "
                + "T5 output) and context_null (the negative prompt's)"));
        o.addOption(CliArgs.value("latent_noise", "FILE", "safetensors with noise [C, F, H, W]: the starting latent instead of "
                + "noise drawn from --seed"));
        o.addOption(CliArgs.value("sample_solver", "NAME", "unipc (default), dpm++ or vanilla"));
        o.addOption(CliArgs.value("infer_steps", "N", "sampling steps, 1..1000 (default: the task's, 50 for 2.1 t2v, 40 for A14B)"));
        o.addOption(CliArgs.value("flow_shift", "S", "σ shift, > 0 (default: the task's sample_shift, 5.0; 12.0 for t2v-A14B)"));
        o.addOption(CliArgs.value("guidance_scale", "G", "CFG scale, ≥ 0 (default: the task's, 5.0; the low-noise expert's for A14B)"));
        o.addOption(CliArgs.value("guidance_scale_high_noise", "G", "CFG scale of the A14B high-noise expert, ≥ 0 (default: the task's)"));
        o.addOption(CliArgs.value("timestep_boundary", "B", "A14B switch: high-noise expert while t/1000 ≥ B (0..1, or 0..1000; "
                + "default: the task's)"));
        o.addOption(CliArgs.value("seed", "N", "seed of the counter-based noise, 0..2^63-1 (default: random)"));
        o.addOption(CliArgs.flag("cpu_noise", "accepted for compatibility: the noise is the same on every device"));
        o.addOption(Option.builder().longOpt("video_size").numberOfArgs(2).argName("H W")
                .desc("height and width in pixels, 16..16384, multiples of 16 (of 32 with a stride-16 VAE) (default 256 256)").build());
        o.addOption(CliArgs.value("video_length", "N", "frames, 4k + 1 in 1..16385 (default 81; 1 for t2i)"));
        o.addOption(CliArgs.values("lora_weight", "FILE", "LoRA / LORAID files applied as adapters (to the low-noise expert for A14B); "
                + "LoHa/LoKr files merged at load"));
        o.addOption(CliArgs.values("lora_multiplier", "M", "multipliers: none = 1.0, one = for all, else one per LoRA (per LORAID with --LORAID)"));
        o.addOption(CliArgs.values("lora_weight_high_noise", "FILE", "LoRA files for the A14B high-noise expert"));
        o.addOption(CliArgs.values("lora_multiplier_high_noise", "M", "multipliers for --lora_weight_high_noise"));
        o.addOption(CliArgs.values("include_patterns", "REGEX", "per LoRA file, in file order (one pattern: every file): "
                + "keep only its keys the regex finds (unanchored search on lora_unet_… keys)"));
        o.addOption(CliArgs.values("exclude_patterns", "REGEX", "per LoRA file like --include_patterns: drop the keys the "
                + "regex finds, after the include patterns"));
        o.addOption(CliArgs.values("LORAID", "ID", "apply only the files of these LORAIDs, in this order"));
        o.addOption(CliArgs.values("loraid", "ID", "alias of --LORAID"));
        o.addOption(CliArgs.value("blocks_per_loraid", "P", "blocks per LORAID for files without ss_loraid_blocks_per_loraid, 1..10000"));
        o.addOption(CliArgs.flag("allow_overlap", "downgrade block overlaps between LORAID files to a warning"));
        o.addOption(CliArgs.value("cfg_skip_mode", "MODE", "none (default), early, late, middle, early_late or alternate"));
        o.addOption(CliArgs.value("cfg_apply_ratio", "R", "share of steps that apply CFG (0..1; default: all)"));
        o.addOption(CliArgs.value("slg_layers", "I,J", "blocks skipped for skip-layer guidance, comma separated indices ≥ 0"));
        o.addOption(CliArgs.value("slg_scale", "S", "SLG scale for --slg_mode original, any finite number (default 3.0)"));
        o.addOption(CliArgs.value("slg_start", "R", "SLG from this share of the steps, in [0, 1] (default 0.0)"));
        o.addOption(CliArgs.value("slg_end", "R", "SLG until this share of the steps, in [0, 1] (default 0.3)"));
        o.addOption(CliArgs.value("slg_mode", "MODE", "original or uncond (default: SLG off)"));
        o.addOption(CliArgs.value("output_type", "TYPE", "video (default: <time>_<seed>.mp4, H.264), images (a PNG per frame), "
                + "latent (<time>_<seed>_latent.safetensors), both (latent and video) or latent_images"));
        o.addOption(CliArgs.value("fps", "N", "frame rate of the video, 1..1000 (default 16)"));
        o.addOption(CliArgs.value("save_path", "DIR", "output folder; required"));
        o.addOption(CliArgs.flag("no_metadata", "write the latent without generation metadata"));
        o.addOption(CliArgs.deviceOption());
        o.addOption(CliArgs.flag("quiet", "no progress bar or info lines"));
        UPSTREAM.addTo(o);
        return o;
    }

    @Override
    String usage() {
        return "loraid generate --task TASK --dit FILE (--prompt TEXT | --from_file FILE) --t5 FILE --tokenizer FILE "
                + "--save_path DIR [options]   (or --text_embeds FILE instead of the prompt and the encoder)";
    }

    @Override
    String helpFooter() {
        return "Frames (PNGs and the MP4) are VAE-decoded with --vae, else latent channels 0, 1, 2 as RGB, one frame per latent "
                + "frame; files are named <time>_<seed>… as upstream.";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        CliArgs.noArguments(cl);
        UPSTREAM.refuse(cl);
        WanVariant task = parse(cl, "task", WanPresets::get, WanPresets.get("t2v-14B"));
        if (cl.hasOption("latent_path")) {
            return decodeOnly(cl, task, out, err);
        }
        Path dit = CliArgs.requiredPath(cl, "dit");
        if (cl.hasOption("save_merged_model")) {
            return saveMerged(cl, dit, out, err);
        }
        Path embeds = CliArgs.path(cl, "text_embeds");
        Path saveDir = CliArgs.requiredPath(cl, "save_path");
        OutputType outputType = parse(cl, "output_type", OutputType::parse, OutputType.VIDEO);
        int fps = fps(cl);
        Long seedFlag = CliArgs.seed(cl);
        long seed = seedFlag != null ? seedFlag : randomSeed();
        // every number is checked before the text is encoded or any file is read (issue 16)
        int multiple = task.vaeStride()[1] * task.config().patchH();
        int height = 256;
        int width = 256;
        if (cl.hasOption("video_size")) {
            String[] hw = cl.getOptionValues("video_size");
            height = pixels(hw[0], multiple);
            width = pixels(hw[1], multiple);
        }
        Integer frames = CliArgs.integer(cl, "video_length", 1, MAX_FRAMES);
        if (frames != null && (frames - 1) % task.vaeStride()[0] != 0) {
            throw new UsageException("--video_length must be " + task.vaeStride()[0] + "k + 1 (1, 5, 9, …), got " + frames);
        }
        Integer steps = CliArgs.integer(cl, "infer_steps", 1, 1000);
        Double shift = CliArgs.number(cl, "flow_shift");
        if (shift != null && !(shift > 0)) {
            throw new UsageException("--flow_shift must be > 0, got " + cl.getOptionValue("flow_shift"));
        }
        Double g = CliArgs.number(cl, "guidance_scale", 0, Double.MAX_VALUE);
        Double gHigh = CliArgs.number(cl, "guidance_scale_high_noise", 0, Double.MAX_VALUE);
        Double boundary = CliArgs.number(cl, "timestep_boundary", 0, 1000);
        Double ratio = CliArgs.number(cl, "cfg_apply_ratio", 0, 1);
        SkipLayerGuidance slg = slg(cl);
        CliArgs.integer(cl, "blocks_per_loraid", 1, BlockCount.MAX_BLOCKS);
        CliArgs.outputFolder("save_path", saveDir);
        Path fromFile = CliArgs.path(cl, "from_file");
        boolean interactive = cl.hasOption("interactive");
        if (interactive) {
            for (String other : new String[] {"from_file", "prompt", "text_embeds", "latent_noise"}) {
                if (cl.hasOption(other)) {
                    throw new UsageException("--interactive and --" + other + " exclude each other");
                }
            }
        }
        List<SamplePrompts.Entry> entries = fromFile == null ? List.of() : promptFile(cl, fromFile);
        Map<String, String> extra = new LinkedHashMap<>();
        // the text: --text_embeds or --prompt, or every entry of --from_file (the first one fills the template request)
        List<Tensor[]> texts = new ArrayList<>();
        List<Map<String, String>> extras = new ArrayList<>();
        if (interactive) { // each line brings its text: the template's is a placeholder, never sampled
            Tensor none = Tensor.zeros(DType.F32, 1, task.config().textDim());
            texts.add(new Tensor[] {none, none});
            extras.add(extra);
        } else if (fromFile == null) {
            texts.add(text(cl, task, embeds, extra));
            extras.add(extra);
        } else {
            encodePromptFile(cl, task, fromFile, entries, texts, extras);
        }
        Tensor[] text = texts.getFirst();
        GenerateRequest d = GenerateRequest.withTaskDefaults(task, dit, CliArgs.path(cl, "dit_high_noise"), seed, text[0], text[1]);

        Tensor noise = null;
        if (cl.hasOption("latent_noise")) {
            try (SafetensorsFile f = SafetensorsFile.open(CliArgs.path(cl, "latent_noise"))) {
                if (!f.contains("noise")) {
                    throw new UsageException("--latent_noise " + cl.getOptionValue("latent_noise") + " has no tensor 'noise' "
                            + "[C, F, H, W] (found " + f.names() + ")");
                }
                noise = f.tensor("noise").copy();
            }
        }
        if (cl.hasOption("latent_noise")) {
            extra.put("latent_noise", CliArgs.path(cl, "latent_noise").getFileName().toString());
        }
        GenerateRequest req = new GenerateRequest(task, dit, d.ditHighNoise(),
                loras(cl, "lora_weight", "lora_multiplier", err), loras(cl, "lora_weight_high_noise", "lora_multiplier_high_noise", err),
                parse(cl, "sample_solver", SolverKind::parse, SolverKind.UNIPC), steps != null ? steps : d.steps(),
                shift != null ? shift : d.flowShift(), g != null ? g : d.guidanceScale(),
                gHigh != null ? gHigh : d.guidanceScaleHighNoise(), boundary != null ? boundary : d.timestepBoundary(),
                parse(cl, "cfg_skip_mode", CfgSkipMode::parse, CfgSkipMode.NONE), ratio, slg, seed, height, width,
                frames != null ? frames : d.frames(), text[0], text[1], noise, CliArgs.device(cl), residency(cl), fp8(cl),
                blocksToSwap(cl), activations(cl, CliArgs.device(cl)), extras.getFirst());
        if (interactive) {
            return InteractiveGeneration.run(cl, req, seedFlag, outputType, saveDir, fps, out, err);
        }
        List<String> startImages = StartImages.paths(cl, task, fromFile, entries); // none for text-to-video
        List<String> endImages = StartImages.endPaths(cl, task, fromFile, entries, startImages.size()); // nulls but for FLF2V
        boolean controlOnly = StartImages.controlOnly(task); // T2V Fun-Control: a control video, no start image
        int generations = controlOnly ? Math.max(1, entries.size()) : startImages.size();
        List<String> controls = StartImages.controlPaths(cl, task, fromFile, entries, generations); // nulls but for FC
        StartImages.OneFrameInput oneFrame = StartImages.oneFrame(cl, task);
        List<GenerateRequest> reqs = new ArrayList<>();
        try (StartImages.Encoders encoder = startImages.isEmpty() && !controlOnly ? null : StartImages.encoders(cl, task)) {
            if (fromFile == null) {
                reqs.add(condition(req, encoder, startImages, endImages, controls, 0, "--image_path", oneFrame));
            } else {
                for (int i = 0; i < entries.size(); i++) {
                    SamplePrompts.Entry e = entries.get(i);
                    int at = i;
                    reqs.add(fromEntry(req, e, texts.get(i), extras.get(i), seedFlag,
                            r -> condition(r, encoder, startImages, endImages, controls, at, e.where(), oneFrame)));
                }
            }
        }

        try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"), "steps")) {
            UPSTREAM.notices(cl).forEach(reporter::info);
            for (GenerateRequest r : reqs) {
                reporter.info("generate: " + task.name() + ", " + r.solver().flagValue() + " " + r.steps() + " steps, shift "
                        + r.flowShift() + ", guidance " + r.guidanceScale() + ", seed " + r.seed() + ", latent "
                        + Arrays.toString(r.latentShape()) + ", device " + r.device() + ", activations "
                        + r.activations().safetensorsName().toLowerCase(Locale.ROOT)
                        + (reqs.size() > 1 ? " (" + r.extraMetadata().get("from_file_entry") + ")" : ""));
            }
            boolean noMetadata = cl.hasOption("no_metadata");
            try (Frames frameSource = Frames.open(cl, task, outputType)) {
                Generator.runAll(reqs, reporter, result -> {
                    GenerateResult r = noMetadata ? new GenerateResult(result.latent(), result.seed(), Map.of()) : result;
                    save(frameSource, r, outputType, saveDir, fps).forEach(out::println);
                });
            }
        }
        return 0;
    }

    /**
     * Generation {@code i}'s conditioning: none for text-to-video, the control video alone for T2V Fun-Control, else its
     * start image (with its end image, control video or one-frame controls).
     */
    static GenerateRequest condition(GenerateRequest r, StartImages.Encoders encoder, List<String> startImages,
            List<String> endImages, List<String> controls, int i, String where, StartImages.OneFrameInput oneFrame) {
        if (encoder == null) {
            return r;
        }
        if (startImages.isEmpty()) {
            return StartImages.applyControl(r, path(controls.get(i)), where, encoder);
        }
        return StartImages.apply(r, Path.of(startImages.get(i)), path(endImages.get(i)), path(controls.get(i)), where, encoder,
                oneFrame);
    }

    /** --mixed_precision: the DiT's activation dtype; when absent bf16 on a GPU (upstream's autocast), fp32 on the CPU. */
    private static DType activations(CommandLine cl, Device device) {
        String v = cl.getOptionValue("mixed_precision");
        return v != null ? MixedPrecision.parse(v).activationDType() : device.isCpu() ? DType.F32 : DType.BF16;
    }

    /** --blocks_to_swap (0 when absent; the model's block count bounds it, checked when the DiT is opened). */
    private static int blocksToSwap(CommandLine cl) {
        Integer n = CliArgs.integer(cl, "blocks_to_swap", 0, 10_000);
        return n == null ? 0 : n;
    }

    /** --fp8 / --fp8_scaled (upstream: scaled only applies with --fp8). */
    private static Fp8Load fp8(CommandLine cl) {
        if (cl.hasOption("fp8_scaled") && !cl.hasOption("fp8")) {
            throw new UsageException("--fp8_scaled needs --fp8 (as upstream's wan_generate_video.py)");
        }
        return cl.hasOption("fp8_scaled") ? Fp8Load.SCALED : cl.hasOption("fp8") ? Fp8Load.CAST : Fp8Load.NONE;
    }

    /** --offload_inactive_dit / --lazy_loading (upstream breaks on both: its lazy path has no model to offload). */
    private static ExpertResidency residency(CommandLine cl) {
        boolean offload = cl.hasOption("offload_inactive_dit");
        boolean lazy = cl.hasOption("lazy_loading");
        if (offload && lazy) {
            throw new UsageException("--offload_inactive_dit and --lazy_loading exclude each other: give one");
        }
        if ((offload || lazy) && !cl.hasOption("dit_high_noise")) {
            throw new UsageException("--" + (offload ? "offload_inactive_dit" : "lazy_loading") + " needs two experts "
                    + "(--dit_high_noise)");
        }
        return offload ? ExpertResidency.OFFLOAD_INACTIVE : lazy ? ExpertResidency.LAZY : ExpertResidency.BOTH;
    }

    private static long randomSeed() {
        return new SecureRandom().nextLong() & 0xffffffffL;
    }

    private static int fps(CommandLine cl) {
        Integer fps = CliArgs.integer(cl, "fps", 1, 1000);
        return fps != null ? fps : GenerateOutputs.DEFAULT_FPS;
    }

    /** One --video_size value: pixels in [multiple, MAX_PIXELS], a multiple of the task's VAE stride × patch size. */
    private static int pixels(String v, int multiple) {
        int px = parse("video_size", v, Integer::parseInt);
        if (px < multiple || px > MAX_PIXELS || px % multiple != 0) {
            throw new UsageException("--video_size values must be multiples of " + multiple + " in [" + multiple + ", " + MAX_PIXELS
                    + "] (VAE stride × patch size), got " + v);
        }
        return px;
    }

    /** --from_file: its entries, with the flags it cannot be combined with refused. */
    private static List<SamplePrompts.Entry> promptFile(CommandLine cl, Path file) {
        for (String other : new String[] {"prompt", "text_embeds", "latent_noise"}) {
            if (cl.hasOption(other)) {
                throw new UsageException("--from_file and --" + other + " exclude each other");
            }
        }
        List<SamplePrompts.Entry> entries;
        try {
            entries = SamplePrompts.readEntries(file);
        } catch (dev.loraid.core.LoraidException e) {
            throw new UsageException("--from_file: " + e.getMessage());
        }
        entries.forEach(GenerateCommand::refuseSampleOnlyOptions);
        return entries;
    }

    /** A prompt line's --of and --ci are for training samples: generate takes them from its command line. */
    static void refuseSampleOnlyOptions(SamplePrompts.Entry e) {
        if (e.options().containsKey("one_frame") || e.options().containsKey("control_image_path")) {
            throw new UsageException(e.where() + ": --of and --ci are for training samples; give --one_frame_inference and "
                    + "--control_image_path on the command line");
        }
    }

    /**
     * Each entry's prompt and negative prompt (the line's --n, else --negative_prompt, else the task's) through one
     * UMT5 encoder, each distinct text once; the encoder is closed before the DiT is opened.
     */
    private static void encodePromptFile(CommandLine cl, WanVariant task, Path file, List<SamplePrompts.Entry> entries,
            List<Tensor[]> texts, List<Map<String, String>> extras) {
        Path t5 = CliArgs.requiredPath(cl, "t5");
        Path tokenizer = CliArgs.requiredPath(cl, "tokenizer");
        String negativeDefault = cl.getOptionValue("negative_prompt", NegativePrompts.forTask(task));
        Map<String, Tensor> done = new HashMap<>();
        try (Umt5TextEncoder encoder = Umt5TextEncoder.open(t5, tokenizer, task.config().textLen(), CliArgs.device(cl))) {
            for (SamplePrompts.Entry e : entries) {
                String negative = e.options().getOrDefault("negative_prompt", negativeDefault);
                texts.add(new Tensor[] {done.computeIfAbsent(e.prompt(), encoder::encode),
                        done.computeIfAbsent(negative, encoder::encode)});
                Map<String, String> extra = new LinkedHashMap<>();
                putText(extra, e.prompt(), negative, t5);
                extra.put("from_file", file.getFileName().toString());
                extra.put("from_file_entry", e.where().replace(file.toString(), file.getFileName().toString()));
                extras.add(extra);
            }
        }
    }

    /** The command line's request with one prompt-file entry's text and overrides (§6.3: w h f d s g/l fs n). */
    private static Path path(String file) {
        return file == null ? null : Path.of(file);
    }

    static GenerateRequest fromEntry(GenerateRequest base, SamplePrompts.Entry e, Tensor[] text,
            Map<String, String> extra, Long seedFlag, java.util.function.UnaryOperator<GenerateRequest> startImage) {
        Map<String, String> o = e.options();
        int width = entryInt(e, "width", base.width());
        int height = entryInt(e, "height", base.height());
        int frames = entryInt(e, "frame_count", base.frames());
        long seed = o.containsKey("seed") ? entryInt(e, "seed", 0) : seedFlag != null ? seedFlag : randomSeed();
        int steps = entryInt(e, "sample_steps", base.steps());
        double shift = entryNumber(e, "discrete_flow_shift", base.flowShift());
        // upstream's batch lines take --g and --l alike as the guidance scale; --l wins when both are given
        double guidance = entryNumber(e, "cfg_scale", entryNumber(e, "guidance_scale", base.guidanceScale()));
        GenerateRequest r = startImage.apply(base.withText(text[0], text[1], extra).withSize(height, width, frames).withSeed(seed)
                .withSampling(base.solver(), steps, shift, guidance));
        try {
            Generator.check(r);
        } catch (dev.loraid.core.LoraidException ex) {
            throw new UsageException(e.where() + ": " + ex.getMessage());
        }
        return r;
    }

    private static int entryInt(SamplePrompts.Entry e, String key, int absent) {
        String v = e.options().get(key);
        if (v == null) {
            return absent;
        }
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException ex) {
            throw new UsageException(e.where() + ": " + key + " expects an integer, got '" + v + "'");
        }
    }

    private static double entryNumber(SamplePrompts.Entry e, String key, double absent) {
        String v = e.options().get(key);
        if (v == null) {
            return absent;
        }
        try {
            return Double.parseDouble(v.strip());
        } catch (NumberFormatException ex) {
            throw new UsageException(e.where() + ": " + key + " expects a number, got '" + v + "'");
        }
    }

    /** The frame renderer of a run: --vae's decoder (opened once for every prompt) or the latent projection. */
    record Frames(FrameRenderer renderer, VaeFrames vae) implements AutoCloseable {
        static Frames open(CommandLine cl, WanVariant task, OutputType type) {
            Integer trim = CliArgs.integer(cl, "trim_tail_frames", 0, Integer.MAX_VALUE);
            int tail = trim == null ? 0 : trim;
            if (!cl.hasOption("vae") || !type.frames()) {
                return new Frames(dev.loraid.core.generate.LatentPreview.renderer(task.vaeStride()).withoutLast(tail), null);
            }
            VaeFrames vae = VaeFrames.open(CliArgs.path(cl, "vae"), CliArgs.path(cl, "vae_latent_stats"), CliArgs.device(cl));
            return new Frames(vae.withoutLast(tail), vae);
        }

        @Override
        public void close() {
            if (vae != null) {
                vae.close();
            }
        }
    }

    /** Writes one result's outputs under {@code <time>_<seed>}. */
    static List<Path> save(Frames frames, GenerateResult result, OutputType type, Path dir, int fps) throws IOException {
        String base = GenerateOutputs.TIME.format(LocalDateTime.now()) + "_" + result.seed();
        return GenerateOutputs.save(result, type, dir, base, frames.renderer(), fps);
    }

    /**
     * --save_merged_model (§6.6, upstream's wan_generate_video.py): the LoRAs merged into the DiT through the same streaming
     * merge as {@code loraid merge}, the result written, no sampling.
     */
    private static int saveMerged(CommandLine cl, Path dit, PrintStream out, PrintStream err) {
        LoraSelection loras = loras(cl, "lora_weight", "lora_multiplier", err);
        if (loras.isEmpty()) {
            throw new UsageException("--save_merged_model needs --lora_weight (the LoRAs to merge into --dit)");
        }
        if (loras.lycoris()) {
            try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"))) {
                dev.loraid.core.merge.LycorisMerger.mergeFile(dit, loras.files(), loras.perFileMultipliers(),
                        CliArgs.path(cl, "save_merged_model"), reporter);
            }
            out.println(CliArgs.path(cl, "save_merged_model"));
            return 0;
        }
        if (loras.includePatterns().size() > 1 || loras.excludePatterns().size() > 1) {
            throw new UsageException("--save_merged_model applies one --include_patterns / --exclude_patterns to every LoRA "
                    + "file (as loraid merge): per-file patterns are for sampling");
        }
        Path output = CliArgs.path(cl, "save_merged_model");
        try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"))) {
            LoraMerger.merge(new MergeRequest(dit, loras.files(), loras.loraids(), loras.multipliers(), loras.blocksPerLoraid(),
                    loras.allowOverlap(), loras.includePatterns(), loras.excludePatterns(), null, output), "--save_merged_model",
                    reporter);
        }
        out.println(output);
        return 0;
    }

    /**
     * --latent_path: a saved latent (key {@code latent}) decoded to images (or, with --output_type video, an MP4), with
     * the seed from its metadata.
     */
    private static int decodeOnly(CommandLine cl, WanVariant task, PrintStream out, PrintStream err) throws Exception {
        Path file = CliArgs.path(cl, "latent_path");
        OutputType type = parse(cl, "output_type", OutputType::parse, OutputType.IMAGES);
        if (type.latent()) {
            throw new UsageException("--latent_path decodes a latent: --output_type images (default) or video");
        }
        Path saveDir = CliArgs.requiredPath(cl, "save_path");
        CliArgs.outputFolder("save_path", saveDir);
        GenerateResult result;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!f.contains("latent")) {
                throw new UsageException("--latent_path " + file + " has no tensor 'latent' (found " + f.names() + ")");
            }
            String seeds = f.metadata().getOrDefault("seeds", "0");
            long seed;
            try {
                seed = Long.parseLong(seeds.strip());
            } catch (NumberFormatException e) {
                seed = 0;
            }
            result = new GenerateResult(f.tensor("latent").to(dev.loraid.tensor.DType.F32).copy(), seed, f.metadata());
        }
        try (Frames frames = Frames.open(cl, task, type)) {
            save(frames, result, type, saveDir, fps(cl)).forEach(out::println);
        }
        return 0;
    }

    /**
     * The prompt's and the negative prompt's text conditioning: from --text_embeds, or --prompt (and --negative_prompt,
     * else the task's default) through the UMT5 tokenizer and encoder; what was used goes into {@code extra}.
     */
    private static Tensor[] text(CommandLine cl, WanVariant task, Path embeds, Map<String, String> extra) throws Exception {
        if ((embeds == null) == !cl.hasOption("prompt")) {
            throw new UsageException(embeds == null ? "give --prompt (with --t5 and --tokenizer) or --text_embeds"
                    : "--prompt and --text_embeds exclude each other");
        }
        if (embeds != null) {
            if (cl.hasOption("negative_prompt")) {
                throw new UsageException("--negative_prompt needs --prompt (with --text_embeds the negative is context_null)");
            }
            extra.put("text_embeds", embeds.getFileName().toString());
            return readEmbeds(embeds);
        }
        Path t5 = CliArgs.requiredPath(cl, "t5");
        Path tokenizer = CliArgs.requiredPath(cl, "tokenizer");
        String prompt = cl.getOptionValue("prompt");
        String negative = cl.getOptionValue("negative_prompt", NegativePrompts.forTask(task));
        putText(extra, prompt, negative, t5);
        try (Umt5TextEncoder encoder = Umt5TextEncoder.open(t5, tokenizer, task.config().textLen(), CliArgs.device(cl))) {
            return new Tensor[] {encoder.encode(prompt), encoder.encode(negative)};
        }
    }

    /** The metadata of a text the UMT5 {@code t5} encoded: the prompt, the negative prompt, the encoder's file. */
    static void putText(Map<String, String> extra, String prompt, String negative, Path t5) {
        extra.put("prompt", prompt);
        extra.put("negative_prompt", negative);
        extra.put("t5", t5.getFileName().toString());
    }

    /** The two tensors of --text_embeds: context and context_null, as F32 copies. */
    private static Tensor[] readEmbeds(Path file) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String key : new String[] {"context", "context_null"}) {
                if (!f.contains(key)) {
                    throw new UsageException("--text_embeds " + file + " has no tensor '" + key + "': expected context "
                            + "[L, text_dim] (prompt) and context_null [L, text_dim] (negative prompt); found " + f.names());
                }
            }
            return new Tensor[] {f.tensor("context").to(dev.loraid.tensor.DType.F32).copy(),
                    f.tensor("context_null").to(dev.loraid.tensor.DType.F32).copy()};
        }
    }

    private static LoraSelection loras(CommandLine cl, String weightFlag, String multiplierFlag, PrintStream err) {
        List<String> tokens = CliArgs.all(cl, weightFlag);
        if (tokens.isEmpty()) {
            if (!CliArgs.all(cl, multiplierFlag).isEmpty()) {
                throw new UsageException("--" + multiplierFlag + " given without --" + weightFlag);
            }
            return LoraSelection.NONE;
        }
        List<String> multipliers = CliArgs.all(cl, multiplierFlag);
        Optional<List<Integer>> ids = CliArgs.loraids(cl, multipliers.size(), dev.loraid.core.Reporter.SILENT);
        List<Path> files = LoraidArgs.loraFiles(tokens);
        List<String> include = CliArgs.patterns(cl, "include_patterns");
        List<String> exclude = CliArgs.patterns(cl, "exclude_patterns");
        LoraSelection selection = CliArgs.usage(() -> new LoraSelection(files, LoraidArgs.multipliers(multipliers), ids,
                CliArgs.integer(cl, "blocks_per_loraid"), cl.hasOption("allow_overlap"), include, exclude));
        if (!cl.hasOption("lycoris")) {
            try (CliReporter notes = new CliReporter(err, cl.hasOption("quiet"))) {
                return selection.mergedWhereNeeded(notes);
            }
        }
        if (ids.isPresent() || !include.isEmpty() || !exclude.isEmpty()) {
            throw new UsageException("--lycoris merges whole files: not with LORAID ids or --include_patterns / "
                    + "--exclude_patterns");
        }
        CliArgs.usage(() -> selection.perFileMultipliers()); // one, or one per file
        return selection.asLycoris();
    }

    private static SkipLayerGuidance slg(CommandLine cl) {
        SkipLayerGuidance off = SkipLayerGuidance.OFF;
        List<Integer> layers = cl.hasOption("slg_layers")
                ? Arrays.stream(cl.getOptionValue("slg_layers").split(",")).map(GenerateCommand::slgLayer).toList()
                : List.of();
        SkipLayerGuidance.Mode mode = parse(cl, "slg_mode", SkipLayerGuidance.Mode::parse, null);
        if (mode != null && layers.isEmpty()) {
            throw new UsageException("--slg_mode needs --slg_layers");
        }
        Double scale = CliArgs.number(cl, "slg_scale");
        Double start = CliArgs.number(cl, "slg_start", 0, 1);
        Double end = CliArgs.number(cl, "slg_end", 0, 1);
        return new SkipLayerGuidance(layers, scale != null ? scale : off.scale(), start != null ? start : off.start(),
                end != null ? end : off.end(), mode);
    }

    private static int slgLayer(String v) {
        int b = parse("slg_layers", v, Integer::parseInt);
        if (b < 0) {
            throw new UsageException("--slg_layers takes block indices ≥ 0, got " + v);
        }
        return b;
    }

    private static <T> T parse(CommandLine cl, String flag, Function<String, T> parser, T absent) {
        return cl.hasOption(flag) ? parse(flag, cl.getOptionValue(flag), parser) : absent;
    }

    private static <T> T parse(String flag, String value, Function<String, T> parser) {
        try {
            return parser.apply(value.strip());
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + flag + ": " + (e instanceof NumberFormatException ? "not a number: '" + value + "'"
                    : CliFlags.message(e)));
        }
    }
}
