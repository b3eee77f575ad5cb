package dev.loraid.core.api;

import dev.loraid.core.Reporter;
import dev.loraid.core.ema.EmaRequest;
import dev.loraid.core.ema.EmaSchedule;
import dev.loraid.core.ema.EmaTool;
import dev.loraid.core.ema.EpochDiscovery;
import dev.loraid.core.ema.LoraBlend;
import dev.loraid.core.lora.LoraConverter;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.tensor.Device;
import dev.loraid.wan.WanCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The library's front door: open a Wan DiT, attach LoRAs to it, merge LoRAs into a checkpoint, convert a LoRA's
 * key layout, average a run's epoch files by post-hoc EMA. Each call takes typed, validated arguments
 * ({@link Loras}) and reports to a {@link Reporter} (silent by default). The {@code dev.loraid.core.*} packages
 * behind it stay available for everything else. See the package comment for an example.
 */
public final class Loraid {
    private Loraid() {
    }

    /** Opens a Wan DiT (a file, one shard of a set, an index or a folder) on the CPU. */
    public static LoadedModel open(Path dit) throws IOException {
        return open(dit, Device.CPU);
    }

    /** Opens a Wan DiT on {@code device} (a GPU gets its own copy of the weights, in their file dtype). */
    public static LoadedModel open(Path dit, Device device) throws IOException {
        WanCheckpoint ck = WanCheckpoint.open(Objects.requireNonNull(dit, "dit"));
        try {
            return new LoadedModel(ck, ck.model(Objects.requireNonNull(device, "device")));
        } catch (RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    /** Merges {@code loras} into the DiT {@code base} and writes {@code output} (atomically), tensors in their dtype. */
    public static void merge(Path base, Loras loras, Path output) {
        merge(base, loras, output, Reporter.SILENT);
    }

    /** {@link #merge(Path, Loras, Path)}, reporting progress and warnings to {@code reporter}. */
    public static void merge(Path base, Loras loras, Path output, Reporter reporter) {
        var s = loras.selection();
        LoraMerger.merge(new MergeRequest(Objects.requireNonNull(base, "base"), s.files(), s.loraids(), s.multipliers(),
                s.blocksPerLoraid(), s.allowOverlap(), List.of(), List.of(), null, Objects.requireNonNull(output, "output")),
                reporter);
    }

    /** Converts a LoRA file's keys to {@code to} (musubi ⇄ diffusers/ComfyUI, alpha baked in) and writes {@code output}. */
    public static void convert(Path input, LoraConverter.Format to, Path output) {
        LoraConverter.convert(Objects.requireNonNull(input, "input"), Objects.requireNonNull(output, "output"),
                Objects.requireNonNull(to, "to"), LoraKeys.DIFFUSERS_PREFIX, false, Reporter.SILENT);
    }

    /**
     * Post-hoc power-function EMA (σ_rel, e.g. 0.2) over one run's epoch files, oldest first, into {@code output}
     * (spec loraid.md REQ-EMA).
     */
    public static void ema(List<Path> epochFiles, double sigmaRel, Path output) {
        EmaTool.run(new EmaRequest(new TreeMap<>(), List.copyOf(epochFiles), Objects.requireNonNull(output, "output"),
                new TreeMap<>(), EmaSchedule.select(sigmaRel, null, null, false), EpochDiscovery.SortBy.EPOCH, true, 0,
                LoraBlend.Mode.INTELLIGENT, 0.1, false, "partitioned", false), Reporter.SILENT);
    }
}
