package dev.loraid.core.merge;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraInputs;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.core.lora.LoraModule;
import dev.loraid.core.lora.LoraWeights;
import dev.loraid.core.plan.BlockCount;
import dev.loraid.core.lora.LoraPairing;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.tensor.safetensors.TensorInfo;
import dev.loraid.tensor.safetensors.TensorSource;
import dev.loraid.wan.WanKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * Streaming merge of LoRAs into a base DiT (spec loraid.md §4): {@link #plan} validates everything first (files,
 * LORAID pairing and ranges, shapes against the base's header), then {@link MergePlan#write} copies the base tensor
 * by tensor through the atomic writer, reading ahead and writing behind on their own threads; an adapted weight
 * gets {@code Σ m·(alpha/r)·U@D} in fp32 in application order and is cast once to the output dtype. Peak memory is
 * about four tensors in their file dtype plus the LoRA files; untouched tensors are copied byte for byte.
 */
public final class LoraMerger {
    private LoraMerger() {
    }

    /** The name {@link #merge(MergeRequest, Reporter)} gives its output in messages. */
    public static final String OUTPUT = "MergeRequest.output";

    /** Merges and writes {@code req.output()} (atomically: temp file, fsync, rename). */
    public static void merge(MergeRequest req, Reporter reporter) {
        merge(req, OUTPUT, reporter);
    }

    /** {@link #merge(MergeRequest, Reporter)}, its messages naming the output {@code outputName} (e.g. a CLI flag). */
    public static void merge(MergeRequest req, String outputName, Reporter reporter) {
        try (MergePlan plan = plan(req, outputName, reporter); OutputSet output = new OutputSet(Map.of(outputName,
                req.output()))) {
            plan.write(output, reporter);
            output.commit();
            reporter.info("merged " + plan.adaptedWeights() + " weights into " + req.output());
        } catch (IOException e) {
            throw new LoraidException("cannot write " + outputName + " " + req.output() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Validates {@code req} and schedules its updates, reading headers and LoRA files but none of the base's tensor
     * data: a bad input fails here, before the long write. {@code outputName} names the output in errors
     * ({@link #OUTPUT}, or the front end's own name such as a CLI flag). The plan holds the files open until closed.
     */
    public static MergePlan plan(MergeRequest req, String outputName, Reporter reporter) {
        if (req.output() != null) { // null: validation only (loraid validate --dit), the same checks without an output
            checkOutput(req, outputName);
        }
        FileHashes hashes = FileHashes.start(req.loras());
        TensorSource base = openBase(req.base());
        LoraFiles.Opened opened = new LoraFiles.Opened();
        try {
            int blocks = BlockCount.ofWanDit(base.names(), base.describe());
            LoraInputs in = LoraInputs.load(req.loras(), opened, req.includeKeyPatterns(), req.excludeKeyPatterns(), reporter);
            List<LoraPairing.Applied> applied = LoraPairing.pair(in.candidates(), req.loraids(), req.multipliers(), blocks,
                    req.blocksPerLoraid(), req.allowOverlap(), reporter);
            Map<String, List<MergePlan.Update>> updates = schedule(base, in, applied, reporter);
            return new MergePlan(base, opened, updates, applied, mergedMetadata(base, applied, in.pathOf(), hashes),
                    req.saveDtype(),
                    outputName, req.output());
        } catch (RuntimeException e) {
            try (opened) {
                base.close();
            }
            throw e;
        }
    }

    private static void checkOutput(MergeRequest req, String outputName) {
        Path out = req.output().toAbsolutePath().normalize();
        if (Files.isDirectory(out)) {
            throw new LoraidException(outputName + " " + req.output() + " is a directory; give the output file's name");
        }
        List<Path> inputs = new ArrayList<>(req.loras());
        inputs.add(req.base());
        for (Path in : inputs) {
            if (sameFile(out, in)) {
                throw new LoraidException(outputName + " " + req.output() + " is also an input (" + in + "); write to another file");
            }
        }
    }

    private static boolean sameFile(Path out, Path in) {
        try {
            return out.equals(in.toAbsolutePath().normalize()) || (Files.exists(out) && Files.isSameFile(out, in));
        } catch (IOException e) {
            return false;
        }
    }

    private static TensorSource openBase(Path base) {
        try {
            return TensorSource.open(base);
        } catch (IOException e) {
            throw new LoraidException("cannot read base model " + base + ": " + e.getMessage(), e);
        }
    }

    /** Base weight name → updates in application order; checks shapes and unused modules (REQ-MERGE-2, -4). */
    private static Map<String, List<MergePlan.Update>> schedule(TensorSource base, LoraInputs in, List<LoraPairing.Applied> applied,
            Reporter reporter) {
        Map<String, String> weightByLoraName = new LinkedHashMap<>();
        for (String n : base.names()) {
            if (n.endsWith(".weight")) {
                String module = WanKeys.stripPrefix(n.substring(0, n.length() - ".weight".length()));
                weightByLoraName.put(LoraKeys.loraName(module), n);
            }
        }
        Map<String, List<MergePlan.Update>> updates = new LinkedHashMap<>();
        for (LoraPairing.Applied a : applied) {
            LoraWeights w = in.bySource(a.file());
            TreeSet<String> unused = new TreeSet<>();
            for (LoraModule m : w.modules().values()) {
                String weight = weightByLoraName.get(m.loraName());
                if (weight == null) {
                    unused.add(m.loraName());
                    continue;
                }
                TensorInfo info = base.info(weight);
                LoraDelta.checkShapes(info.shape(), m.up().shape(), m.down().shape(), weight + " (" + m.loraName() + ")", w.source());
                if (info.dtype() == DType.F8_E4M3 || info.dtype() == DType.F8_E5M2) {
                    throw new LoraidException(weight + " is " + info.dtype() + ": merging into fp8 weights is not supported; use a bf16/fp16/fp32 base");
                }
                updates.computeIfAbsent(weight, k -> new ArrayList<>()).add(new MergePlan.Update(m, a.multiplier(), w.source()));
            }
            checkUnused(w, a, unused, reporter);
        }
        return updates;
    }

    private static void checkUnused(LoraWeights w, LoraPairing.Applied a, Set<String> unused, Reporter reporter) {
        if (unused.isEmpty()) {
            return;
        }
        if (unused.size() == w.modules().size()) {
            throw new LoraidException(w.source() + ": none of its " + unused.size() + " modules exists in the base model (first "
                    + unused.iterator().next() + "): a LoRA for another architecture or model size?");
        }
        if (a.slice().isPresent()) {
            List<String> inRange = unused.stream().filter(n -> {
                OptionalInt b = LoraKeys.blockIndex(n);
                return b.isPresent() && a.slice().get().contains(b.getAsInt());
            }).toList();
            if (!inRange.isEmpty()) {
                throw new LoraidException(w.source() + " (LORAID " + a.slice().get().id() + ") has modules the base model lacks: "
                        + inRange + ": the file does not fit this DiT");
            }
        }
        reporter.warn(w.source() + ": " + unused.size() + " module(s) unused (no matching base weight): " + unused);
    }

    /** Base metadata plus {@code ss_loraid_merged} = [{file, loraid, multiplier, sha256}] in application order. */
    private static Map<String, String> mergedMetadata(TensorSource base, List<LoraPairing.Applied> applied, Map<String, Path> pathOf,
                                                      FileHashes hashes) {
        List<Object> records = new ArrayList<>();
        for (LoraPairing.Applied a : applied) {
            Map<String, Object> r = new LinkedHashMap<>();
            Path file = pathOf.get(a.file());
            String part = a.file().equals(file.toString()) ? "" : a.file().substring(0, a.file().indexOf(" of ")) + " of ";
            r.put("file", part + file.getFileName());
            r.put("loraid", a.loraid().isPresent() ? (Object) (long) a.loraid().getAsInt() : null);
            r.put("multiplier", a.multiplier());
            r.put("sha256", hashes.get(file));
            records.add(r);
        }
        Map<String, String> meta = new LinkedHashMap<>(base.metadata());
        meta.put("ss_loraid_merged", JsonWriter.compact(records));
        return meta;
    }
}
