package dev.loraid.cli;

import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.tensor.safetensors.TensorInfo;
import dev.loraid.tensor.safetensors.TensorSource;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code loraid inspect FILE…}: every tensor's name, dtype and shape, the metadata, and what the file is (a LoRA:
 * ranks, alphas, blocks and modules). Reads headers only (plus LoRA alpha scalars), so a 28 GB checkpoint
 * answers at once. A FILE may also be a shard, a shard index or a folder (see {@link TensorSource#open}).
 * {@code --json}: one JSON object per FILE (an array of them for several FILEs).
 */
final class InspectCommand extends OptionsCommand {
    /** Text mode shortens metadata values beyond this (kohya files carry kilobytes of tag counts); --json has all. */
    private static final int MAX_VALUE_CHARS = 200;
    /** Video size for the Wan forward-memory estimate unless --resolution/--frames say otherwise (spec §1.2). */
    private static final String DEFAULT_RESOLUTION = "832x480";
    private static final int DEFAULT_FRAMES = 81;
    private static final int MAX_SIDE = 16384;
    private static final int MAX_FRAMES = 4096;

    /** Recognisers tried on every file, in order; each returns a summary or null. */
    private static List<Function<TensorSource, FileSummary>> recognisers(int width, int height, int frames) {
        return List.of(
            CacheFileSummary::of,
            LycorisFileSummary::of,
            src -> {
                LoraFileSummary lora = LoraFileSummary.of(src);
                return lora == null ? null : lora.toSummary();
            },
            src -> WanFileSummary.of(src, width, height, frames));
    }

    @Override
    public String name() {
        return "inspect";
    }

    @Override
    public String summary() {
        return "print the tensors, metadata and LoRA layout of safetensors files";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(null, "json", false, "print JSON (an object per FILE; an array for several FILEs)");
        o.addOption(null, "resolution", true, "video WIDTHxHEIGHT for a Wan model's forward-memory estimate (default "
            + DEFAULT_RESOLUTION + ")");
        o.addOption(null, "frames", true, "video frames for that estimate (default " + DEFAULT_FRAMES + ")");
        return o;
    }

    @Override
    String usage() {
        return "loraid inspect [--json] FILE...";
    }

    @Override
    String helpHeader() {
        return "FILE: a .safetensors file, one shard of a set, a *.safetensors.index.json, or a folder.";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) {
        List<String> files = cl.getArgList();
        if (files.isEmpty()) {
            throw new UsageException("no FILE given");
        }
        boolean json = cl.hasOption("json");
        List<Function<TensorSource, FileSummary>> recognisers = recognisers(cl);
        List<Object> reports = new ArrayList<>();
        int status = 0;
        for (String f : files) {
            try (TensorSource src = TensorSource.open(Path.of(f))) {
                if (json) {
                    reports.add(toJson(src, recognisers));
                } else {
                    if (!reports.isEmpty()) {
                        out.println();
                    }
                    printText(src, out, recognisers);
                    reports.add(f);
                }
            } catch (IOException | RuntimeException e) {
                err.println("loraid inspect: error: " + Main.describe(e));
                status = 1;
            }
        }
        if (json && !reports.isEmpty()) {
            out.println(JsonWriter.pretty(files.size() == 1 ? reports.getFirst() : reports));
        }
        return status;
    }

    private static void printText(TensorSource src, PrintStream out, List<Function<TensorSource, FileSummary>> recognisers) {
        List<String> names = src.names();
        long params = 0;
        long bytes = 0;
        int width = 0;
        for (String n : names) {
            TensorInfo t = src.info(n);
            params += t.shape().numel();
            bytes += t.byteSize();
            width = Math.max(width, n.length());
        }
        width = Math.min(width, 72);
        out.println(src.describe() + ": " + names.size() + " tensors, " + params + " parameters, " + bytes(bytes));
        Map<String, String> meta = src.metadata();
        out.println("metadata" + (meta.isEmpty() ? ": none" : " (" + meta.size() + "):"));
        meta.forEach((k, v) -> out.println("  " + k + ": " + shorten(v)));
        out.println("tensors:");
        for (String n : names) {
            TensorInfo t = src.info(n);
            out.printf("  %-" + width + "s  %-7s %s%n", n, t.dtype().safetensorsName(), t.shape());
        }
        for (Function<TensorSource, FileSummary> r : recognisers) {
            FileSummary s = r.apply(src);
            if (s != null) {
                s.lines().forEach(out::println);
            }
        }
    }

    private static Map<String, Object> toJson(TensorSource src, List<Function<TensorSource, FileSummary>> recognisers) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", src.describe());
        List<Object> tensors = new ArrayList<>();
        long params = 0;
        long bytes = 0;
        for (String n : src.names()) {
            TensorInfo t = src.info(n);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", n);
            e.put("dtype", t.dtype().safetensorsName());
            e.put("shape", t.shape().toArray());
            tensors.add(e);
            params += t.shape().numel();
            bytes += t.byteSize();
        }
        o.put("parameters", params);
        o.put("data_bytes", bytes);
        o.put("metadata", src.metadata());
        o.put("tensors", tensors);
        for (Function<TensorSource, FileSummary> r : recognisers) {
            FileSummary s = r.apply(src);
            if (s != null) {
                o.put(s.kind(), s.json());
            }
        }
        return o;
    }

    private static List<Function<TensorSource, FileSummary>> recognisers(CommandLine cl) {
        String res = cl.getOptionValue("resolution", DEFAULT_RESOLUTION);
        String[] wh = res.toLowerCase(java.util.Locale.ROOT).split("x");
        try {
            int frames = Integer.parseInt(cl.getOptionValue("frames", String.valueOf(DEFAULT_FRAMES)));
            if (wh.length != 2) {
                throw new NumberFormatException();
            }
            int w = Integer.parseInt(wh[0]);
            int h = Integer.parseInt(wh[1]);
            // bounded so that the token count of the estimate stays far inside an int
            if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE || frames < 1 || frames > MAX_FRAMES) {
                throw new NumberFormatException();
            }
            return recognisers(w, h, frames);
        } catch (NumberFormatException e) {
            throw new UsageException("--resolution " + res + " --frames " + cl.getOptionValue("frames", "81")
                + ": expected WIDTHxHEIGHT (e.g. 832x480), each 1.." + MAX_SIDE + ", and a frame count 1.." + MAX_FRAMES);
        }
    }

    private static String shorten(String v) {
        String oneLine = v.replace("\n", "\\n");
        return oneLine.length() <= MAX_VALUE_CHARS ? oneLine
            : oneLine.substring(0, MAX_VALUE_CHARS) + "… (" + v.length() + " chars; --json shows all)";
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " bytes";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }
}
