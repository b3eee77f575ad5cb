package dev.loraid.core.ema;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.ParameterText;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraInputs;
import dev.loraid.core.lora.LycorisModule;
import dev.loraid.core.lora.PartitionedLora;
import dev.loraid.tensor.safetensors.OutputSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code loraid ema}: Stage 1 post-hoc EMA per series, Stage 2 optional blending, Stage 3 outputs (spec loraid.md
 * §5). Every check and every output is computed before the first file is written, and the outputs are written as one
 * {@link OutputSet}: any error aborts the whole command and leaves every output path as it was (REQ-EMA-8; the
 * reference skipped failing series and still wrote the rest — D-29).
 */
public final class EmaTool {
    private EmaTool() {
    }

    public static void run(EmaRequest req, Reporter reporter) {
        validate(req);
        try {
            OutputSet.checkFolders(outputNames(req)); // a wrong output folder fails now, not after the EMA is computed
        } catch (java.io.IOException e) {
            throw new LoraidException(ParameterText.naming(e.getMessage(), outputNames(req).keySet()), e);
        }
        try (LoraFiles.Opened opened = new LoraFiles.Opened()) {
            List<String> names = new ArrayList<>();
            List<LoraFile> results = new ArrayList<>();
            List<Path> inputs = new ArrayList<>();
            if (!req.positional().isEmpty()) {
                List<Path> files = legacyOrder(req);
                inputs.addAll(files);
                names.add("lora1");
                results.add(stage1(files, opened, req, reporter));
            } else {
                for (var e : req.series().entrySet()) {
                    List<Path> files = req.mergeOnly() ? List.of(e.getValue())
                            : EpochDiscovery.discover(e.getValue(), req.noSort() ? EpochDiscovery.SortBy.EPOCH : req.sortBy(), reporter);
                    inputs.addAll(files);
                    names.add("lora" + e.getKey());
                    reporter.info("lora" + e.getKey() + ": " + files.size() + " file(s)");
                    results.add(stage1(files, opened, req, reporter));
                }
            }
            if ((results.size() > 1 || req.average() > 0) && results.stream().anyMatch(LycorisModule::holdsLycoris)) {
                throw new LoraidException("LoHa/LoKr files take the post-hoc EMA of one series only: blending and combining "
                        + "series work on LoRA factors");
            }
            if (req.average() > 0) {
                results = LoraBlend.blend(results, names, new LoraBlend.Options(req.average(), req.blendMode(),
                        req.conflictThreshold(), req.referenceCompat()), reporter);
            }
            Map<Path, LoraFile> outputs = outputs(req, names, results, reporter);
            checkNotInputs(outputs.keySet(), inputs);
            LoraFiles.writeAll(outputs, new OutputSet(outputNames(req)));
            outputs.forEach((path, lora) -> reporter.info("wrote " + path + " (" + lora.tensors().size() + " tensors)"));
        }
    }

    /** Every output path under its parameter's name, in the order they are written: the series outputs by slot,
            then the output file. */
    private static final String OUTPUT_FILE = "EmaRequest.outputFile";

    private static Map<String, Path> outputNames(EmaRequest req) {
        Map<String, Path> flags = new LinkedHashMap<>();
        req.seriesOutputs().forEach((slot, path) -> flags.put(EmaRequest.seriesOutput(slot), path));
        if (req.outputFile() != null) {
            flags.put(OUTPUT_FILE, req.outputFile());
        }
        return flags;
    }

    /** The request's own consistency (inputs and outputs given, slots paired, modes known); no file is read. */
    public static void validate(EmaRequest req) {
        if (!req.positional().isEmpty() && !req.series().isEmpty()) {
            throw new LoraidException(named("positional LoRA paths and ", param(EmaRequest.SERIES),
                    " cannot be mixed: give one form"));
        }
        if (req.positional().isEmpty() && req.series().isEmpty()) {
            throw new LoraidException(named("no input: give ", param(EmaRequest.series(1)), " … ",
                    param(EmaRequest.series(EmaRequest.MAX_SERIES)),
                    " or positional epoch files"));
        }
        if (req.outputFile() == null && req.seriesOutputs().isEmpty()) {
            throw new LoraidException(named("no output requested: give ", param(OUTPUT_FILE), " and/or ",
                    param(EmaRequest.SERIES_OUTPUTS)));
        }
        for (int slot : req.seriesOutputs().keySet()) {
            if (!req.series().containsKey(slot)) {
                throw new LoraidException(named(param(EmaRequest.seriesOutput(slot)), " given without ",
                        param(EmaRequest.series(slot))));
            }
        }
        if (!req.positional().isEmpty() && req.outputFile() == null) {
            throw new LoraidException(named("positional LoRA paths need ", param(OUTPUT_FILE)));
        }
        if (!"partitioned".equals(req.combineMode()) && !"union".equals(req.combineMode())) {
            throw new LoraidException(named(param("EmaRequest.combineMode"), " must be partitioned or union, got "
                    + req.combineMode()));
        }
        try {
            OutputSet.checkDistinct(outputNames(req));
        } catch (IllegalArgumentException e) {
            throw new LoraidException(ParameterText.naming(e.getMessage(), outputNames(req).keySet()), e);
        }
    }

    /** Legacy mode (REQ-EMA-3): command-line order with --no_sort, else modification time (ties: epoch, path). */
    private static List<Path> legacyOrder(EmaRequest req) {
        List<EpochDiscovery.EpochFile> files = new ArrayList<>();
        for (Path p : req.positional()) {
            LoraFiles.checkInputFile(p, "LoRA file");
            files.add(new EpochDiscovery.EpochFile(p, EpochDiscovery.epochNumber(p), mtime(p)));
        }
        if (!req.noSort()) {
            files.sort(EpochDiscovery.order(req.sortBy()));
        }
        return files.stream().map(EpochDiscovery.EpochFile::path).toList();
    }

    private static FileTime mtime(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new LoraidException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }

    private static LoraFile stage1(List<Path> files, LoraFiles.Opened opened, EmaRequest req, Reporter reporter) {
        List<LoraFile> loaded = new ArrayList<>();
        for (Path p : files) {
            LoraFile f = opened.open(p);
            if (LycorisModule.holdsLycoris(f)) {
                // a LoHa/LoKr run's epochs (train --network_module networks.loha/lokr): averaged tensor by tensor like any
                // other, after the modules are checked complete; blending and combining stay LoRA's (run())
                LycorisModule.read(f);
            } else {
                // an epoch file with NaN, or a base model given as an epoch, fails here; alpha defaults are PostHocEma's business
                LoraInputs.check(f, Reporter.SILENT);
            }
            loaded.add(f);
        }
        return PostHocEma.average(loaded, req.schedule(), reporter);
    }

    private static Map<Path, LoraFile> outputs(EmaRequest req, List<String> names, List<LoraFile> results, Reporter reporter) {
        Map<Path, LoraFile> out = new LinkedHashMap<>();
        List<Integer> slots = new ArrayList<>(req.series().keySet());
        req.seriesOutputs().forEach((slot, path) -> out.put(path, results.get(slots.indexOf(slot))));
        if (req.outputFile() != null) {
            LoraFile combined;
            if (results.size() == 1) {
                combined = results.getFirst();
            } else if ("union".equals(req.combineMode())) {
                combined = UnionLora.union(results, names, req.outputFile().toString(), reporter);
            } else {
                combined = PartitionedLora.pack(results, names, req.average(), req.outputFile().toString());
            }
            out.put(req.outputFile(), combined);
        }
        return out;
    }

    private static void checkNotInputs(Iterable<Path> outputs, List<Path> inputs) {
        for (Path o : outputs) {
            Path abs = o.toAbsolutePath().normalize();
            if (Files.isDirectory(abs)) {
                throw new LoraidException("output " + o + " is a directory; give the output file's name");
            }
            for (Path in : inputs) {
                try {
                    if (abs.equals(in.toAbsolutePath().normalize()) || (Files.exists(abs) && Files.isSameFile(abs, in))) {
                        throw new LoraidException("output " + o + " is also an input; write to another file");
                    }
                } catch (IOException e) {
                    // an unreadable input was already reported when it was opened
                }
            }
        }
    }
}
