package dev.loraid.cli;

import dev.loraid.core.cache.CacheFolders;
import dev.loraid.core.cache.ClipCheckpointEncoder;
import dev.loraid.core.cache.CacheOptions;
import dev.loraid.core.cache.CacheSummary;
import dev.loraid.core.cache.LatentCacher;
import dev.loraid.core.cache.LatentEncoder;
import dev.loraid.core.cache.TextCacher;
import dev.loraid.core.cache.VaeLatentEncoder;
import dev.loraid.core.data.DatasetConfig;
import dev.loraid.core.generate.Umt5TextEncoder;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code loraid cache --dataset_config ds.toml [--vae VAE] [--t5 T5 --tokenizer TOK]}: musubi-tuner's
 * {@code wan_cache_latents.py} and {@code wan_cache_text_encoder_outputs.py} in one command (spec training.md
 * §4.5-4.6): the dataset's images, videos and captions become {@code *_wan.safetensors} and
 * {@code *_wan_te.safetensors} caches that either trainer reads.
 * The latent side runs the Java Wan VAE, 2.1 or 2.2 (on the CPU), the text side the Java UMT5.
 */
public final class CacheCommand extends OptionsCommand {
    @Override
    public String name() {
        return "cache";
    }

    @Override
    public String summary() {
        return "write musubi-tuner latent / text-encoder caches for a dataset config";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(CliArgs.value("dataset_config", "TOML", "dataset config (musubi-tuner's TOML or JSON)"));
        o.addOption(CliArgs.value("vae", "VAE", "Wan VAE weights (2.1 or 2.2 TI2V-5B; .safetensors or .pth): write the latent caches"));
        o.addOption(CliArgs.value("vae_latent_stats", "FILE", "latents_mean / latents_std for a VAE whose latent width is not "
            + "Wan 2.1's 16 (default: Wan 2.1's values)"));
        o.addOption(CliArgs.value("vae_dtype", "DTYPE", "latent dtype: bf16 (default), fp16, fp32"));
        o.addOption(CliArgs.value("t5", "T5", "UMT5 encoder weights: write the text-encoder caches"));
        o.addOption(CliArgs.value("tokenizer", "TOK", "the UMT5 tokenizer.json or spiece.model (or their folder)"));
        o.addOption(CliArgs.value("text_len", "N", "the DiT's text length, 1..65536 (default 512, Wan's)"));
        o.addOption(CliArgs.deviceOption());
        o.addOption(CliArgs.value("batch_size", "N", "clips encoded together, ≥ 1 (default: each dataset's batch_size)"));
        o.addOption(CliArgs.value("num_workers", "N", "≥ 0, accepted for musubi-tuner compatibility; loading is sequential"));
        o.addOption(CliArgs.flag("skip_existing", "keep cache files that already exist"));
        o.addOption(CliArgs.flag("keep_cache", "keep cache files this run did not produce (default: delete them)"));
        o.addOption(CliArgs.flag("skip_errors", "skip unreadable items (listed at the end) instead of stopping"));
        o.addOption(CliArgs.value("working_dir", "DIR", "where the config's relative paths resolve (default: the "
            + "current directory, as upstream)"));
        o.addOption(CliArgs.flag("one_frame", "one-frame caches (musubi docs/wan_1f.md) of image datasets with control images "
            + "and fp_1f_clean_indices / fp_1f_target_index; needs --clip"));
        o.addOption(CliArgs.flag("i2v", "also cache the I2V conditioning latents_image_* (4 mask channels + the latent of "
                + "the first frame followed by grey frames), what Wan 2.2 i2v-A14B training reads"));
        o.addOption(CliArgs.value("clip", "CLIP", "Wan's CLIP (models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth): also "
                + "cache the first frame's CLIP tokens clip_*, what Wan 2.1 I2V training reads; implies --i2v, as upstream"));
        o.addOption(CliArgs.flag("quiet", "no progress bar or info lines"));
        UPSTREAM.addTo(o);
        return o;
    }

    /** The other flags of upstream's wan_cache_latents.py and wan_cache_text_encoder_outputs.py: see {@link UpstreamFlags}. */
    private static final UpstreamFlags UPSTREAM = new UpstreamFlags(List.of("vae_cache_cpu", "fp8_t5", "disable_cudnn_backend"),
            List.of("console_width", "console_back", "console_num_images"),
            java.util.Map.of("debug_mode", "the dataset viewer (image, console, video) is not built"));

    @Override
    String usage() {
        return "loraid cache --dataset_config TOML [--vae VAE] [--t5 T5 --tokenizer TOK] [--device DEVICE]";
    }

    @Override
    String helpHeader() {
        return summary() + " (spec training.md §4.5-4.6); file names, tensor names, dtypes and metadata as upstream's";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        UPSTREAM.refuse(cl);
        Path config = CliArgs.requiredPath(cl, "dataset_config");
        if (cl.hasOption("clip") && !cl.hasOption("vae")) {
            throw new UsageException("--clip caches beside the latents: give --vae VAE too");
        }
        if (!cl.hasOption("vae") && !cl.hasOption("t5")) {
            throw new UsageException("nothing to cache: give --vae VAE (latents) and/or --t5 T5 --tokenizer TOK (text)");
        }
        if (cl.hasOption("t5") && !cl.hasOption("tokenizer")) {
            throw new UsageException("--t5 needs --tokenizer TOK (the UMT5 tokenizer.json or spiece.model)");
        }
        if (cl.hasOption("vae_dtype")) {
            try {
                LatentEncoder.parseDtype(cl.getOptionValue("vae_dtype"));
            } catch (IllegalArgumentException e) {
                throw new UsageException(CliFlags.message(e));
            }
        }
        Integer batchSize = CliArgs.integer(cl, "batch_size", 1, Integer.MAX_VALUE);
        CliArgs.integer(cl, "num_workers", 0, Integer.MAX_VALUE);
        Integer textLen = CliArgs.integer(cl, "text_len", 1, 1 << 16);
        Path workingDir = cl.hasOption("working_dir") ? Path.of(cl.getOptionValue("working_dir")).toAbsolutePath()
            : Path.of("").toAbsolutePath();
        CacheOptions options = new CacheOptions(cl.hasOption("skip_existing"), cl.hasOption("keep_cache"), batchSize,
            cl.hasOption("skip_errors"), cl.hasOption("i2v"), cl.hasOption("one_frame"));
        try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"), "items")) {
            UPSTREAM.notices(cl).forEach(reporter::info);
            DatasetConfig datasets = DatasetConfig.read(config, workingDir, reporter);
            CacheFolders.prepare(datasets);
            Device device = CliArgs.device(cl, err);
            List<String> skipped = new ArrayList<>();
            if (cl.hasOption("vae")) {
                DType dtype = cl.hasOption("vae_dtype") ? LatentEncoder.parseDtype(cl.getOptionValue("vae_dtype")) : DType.BF16;
                CacheSummary s;
                try (VaeLatentEncoder vae = VaeLatentEncoder.open(CliArgs.requiredPath(cl, "vae"), CliArgs.path(cl, "vae_latent_stats"),
                    dtype, device);
                     ClipCheckpointEncoder clip = cl.hasOption("clip") ? ClipCheckpointEncoder.open(CliArgs.requiredPath(cl, "clip"),
                        device) : null) {
                    s = new LatentCacher(vae, clip, workingDir, options, reporter).run(datasets);
                }
                report(out, "latent caches", s);
                skipped.addAll(s.skipped());
            }
            if (cl.hasOption("t5")) {
                CacheSummary s;
                try (Umt5TextEncoder t5 = Umt5TextEncoder.open(CliArgs.requiredPath(cl, "t5"),
                    CliArgs.requiredPath(cl, "tokenizer"), textLen == null ? 512 : textLen, device)) {
                    s = new TextCacher(t5, workingDir, options, reporter).run(datasets);
                }
                report(out, "text encoder caches", s);
                skipped.addAll(s.skipped());
            }
            return skipped.isEmpty() ? 0 : 1;
        }
    }

    private static void report(PrintStream out, String what, CacheSummary s) {
        out.println(what + ": " + s.written().size() + " written, " + s.existing().size() + " existing kept, "
            + s.deleted().size() + " stale deleted, " + s.skipped().size() + " skipped");
        for (String skipped : s.skipped()) {
            out.println("  skipped " + skipped);
        }
    }
}
