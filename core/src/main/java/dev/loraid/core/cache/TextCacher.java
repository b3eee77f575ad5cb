package dev.loraid.core.cache;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.data.DatasetConfig;
import dev.loraid.core.data.DatasetSpec;
import dev.loraid.core.generate.TextEncoder;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the text-encoder caches of a dataset config (spec training.md §4.6, upstream
 * {@code wan_cache_text_encoder_outputs.py}): one {@code <stem>_wan_te.safetensors} per image or video holding
 * {@code varlen_t5_bfloat16} [L, dim], the encoder output trimmed to the caption's real tokens, with metadata
 * architecture, caption1, format_version. Tensors of an existing file under other names are kept (upstream merges).
 *
 * <p>Upstream writes these with its own {@code mem_eff_save_file} (spaced JSON, header padded to 256 bytes); ours use
 * the project's compact writer. Names, dtypes, shapes, values and metadata are the same; the bytes are not.
 */
public final class TextCacher {
    static final DType DTYPE = DType.BF16;

    private final TextEncoder encoder;
    private final Path workingDir;
    private final CacheOptions options;
    private final Reporter reporter;

    public TextCacher(TextEncoder encoder, Path workingDir, CacheOptions options, Reporter reporter) {
        this.encoder = encoder;
        this.workingDir = workingDir;
        this.options = options;
        this.reporter = reporter;
    }

    public CacheSummary run(DatasetConfig config) {
        List<List<SourceItem>> sources = CacheSources.listAll(config, workingDir);
        long total = sources.stream().mapToLong(List::size).sum();
        CacheRun run = new CacheRun(options, reporter, "text encoder", total);
        String key = CacheNames.textKey(LatentEncoder.torchName(DTYPE));
        for (int d = 0; d < config.datasets().size(); d++) {
            DatasetSpec spec = config.datasets().get(d);
            CacheRun.createDirectory(spec.cacheDirectory());
            for (SourceItem item : sources.get(d)) {
                Path file = spec.cacheDirectory().resolve(CacheNames.text(item.stem()));
                try {
                    if (!run.keepExisting(file)) {
                        if (!Files.exists(item.media())) {
                            throw new LoraidException(item.media() + ": no such file");
                        }
                        String caption = item.readCaption();
                        Tensor t5 = encoder.encode(caption).to(DTYPE).contiguous();
                        write(file, key, t5, caption);
                        run.wrote(file);
                    }
                } catch (RuntimeException e) {
                    run.failed(item, e);
                }
                run.itemDone();
            }
            run.finishDataset(spec, CacheNames.TEXT_SUFFIX, null);
        }
        return run.summary();
    }

    private static void write(Path file, String key, Tensor t5, String caption) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        if (Files.isRegularFile(file)) {
            // §4.6: keys of other encoders in an existing file stay; ours replaces any t5 entry
            try (SafetensorsFile old = SafetensorsFile.open(file)) {
                for (String n : old.names()) {
                    if (!n.startsWith("varlen_t5_") && !n.startsWith("t5_")) {
                        tensors.put(n, old.tensor(n).contiguous().copy());
                    }
                }
            } catch (IOException | RuntimeException e) {
                // an unreadable old cache is replaced, as a fresh run would
            }
        }
        tensors.put(key, t5);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("architecture", CacheNames.ARCHITECTURE);
        meta.put("caption1", caption);
        meta.put("format_version", CacheNames.FORMAT_VERSION);
        try {
            SafetensorsWriter.write(file, tensors, meta);
        } catch (IOException e) {
            throw new LoraidException(file + ": cannot write the text cache (" + e.getMessage() + ")", e);
        }
    }
}
