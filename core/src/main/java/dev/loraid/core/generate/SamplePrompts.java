package dev.loraid.core.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.loraid.core.LoraidException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a {@code --sample_prompts} file (spec training.md §6.1) by its extension: {@code .txt} (a prompt per non-empty
 * line, {@code #} lines skipped, inline options after {@code " --"}: w, h, f, d, s, g, fs, l, n, i, ei, cn), {@code .toml}
 * (a {@code [prompt]} table of shared keys and {@code [[prompt.subset]]} entries merged over it) or {@code .json} (a list
 * of strings, read as lines, or of objects). Errors name the file, the line (for .txt) and the option.
 */
public final class SamplePrompts {
    private SamplePrompts() {
    }

    /** The prompts with {@link SamplePrompt}'s defaults filled in (the training sampler's reading, §6.1). */
    public static List<SamplePrompt> read(Path file) {
        return readEntries(file).stream().map(e -> build(e.index(), e.prompt(), e.options()::get, e.where())).toList();
    }

    /**
     * One prompt as written: its text and only the options it sets, under their canonical keys (width, height,
     * frame_count, seed, sample_steps, guidance_scale, discrete_flow_shift, cfg_scale, negative_prompt, image_path,
     * end_image_path, control_video_path), so that a caller can lay them over its own defaults ({@code generate
     * --from_file}, §6.3). {@code where} names the file and line or entry for error messages.
     */
    public record Entry(int index, String prompt, Map<String, String> options, String where) {
        public Entry {
            options = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(options));
        }
    }

    /** The file's prompts as written (see {@link Entry}); the same formats and errors as {@link #read}. */
    public static List<Entry> readEntries(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            if (name.endsWith(".txt")) {
                List<Entry> out = new ArrayList<>();
                int lineNo = 0;
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    lineNo++;
                    String l = line.strip();
                    if (!l.isEmpty() && !l.startsWith("#")) {
                        out.add(parseLine(out.size(), l, file + ":" + lineNo));
                    }
                }
                return checked(out, file);
            }
            if (name.endsWith(".toml") || name.endsWith(".json")) {
                JsonNode root = name.endsWith(".toml") ? new TomlMapper().readTree(file.toFile()) : new ObjectMapper().readTree(file.toFile());
                return checked(fromTree(root, file), file);
            }
        } catch (IOException e) {
            throw new LoraidException("cannot read sample prompts " + file + ": " + e.getMessage(), e);
        }
        throw new LoraidException("sample prompts " + file + ": expected a .txt, .toml or .json file");
    }

    private static List<Entry> checked(List<Entry> prompts, Path file) {
        if (prompts.isEmpty()) {
            throw new LoraidException("sample prompts " + file + " holds no prompt");
        }
        return List.copyOf(prompts);
    }

    /**
     * One line: the prompt, then {@code " --key value"} options (keys case-insensitive); {@code where} names it in
     * errors.
     */
    public static Entry parseLine(int index, String line, String where) {
        String[] parts = line.split(" --");
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].strip();
            int space = p.indexOf(' ');
            String key = (space < 0 ? p : p.substring(0, space)).toLowerCase(Locale.ROOT);
            String value = space < 0 ? "" : p.substring(space + 1).strip();
            String canonical = switch (key) {
                case "w" -> "width";
                case "h" -> "height";
                case "f" -> "frame_count";
                case "d" -> "seed";
                case "s" -> "sample_steps";
                case "g" -> "guidance_scale";
                case "fs" -> "discrete_flow_shift";
                case "l" -> "cfg_scale";
                case "n" -> "negative_prompt";
                case "i" -> "image_path";
                case "ei" -> "end_image_path";
                case "cn" -> "control_video_path";
                case "of" -> "one_frame";
                case "ci" -> "control_image_path";
                default -> throw new LoraidException(where + ": unknown prompt option --" + key
                        + " (known: --w --h --f --d --s --g --fs --l --n --i --ei --cn --of --ci)");
            };
            // --ci appends (upstream's list); the paths are kept one per line
            options.merge(canonical, value, (a, b) -> canonical.equals("control_image_path") ? a + "\n" + b : b);
        }
        return new Entry(index, parts[0].strip(), options, where);
    }

    private static List<Entry> fromTree(JsonNode root, Path file) {
        List<Entry> out = new ArrayList<>();
        if (root.isArray()) {
            for (JsonNode n : root) {
                String where = file + ": prompt " + out.size();
                if (n.isTextual()) {
                    out.add(parseLine(out.size(), n.asText().strip(), where));
                } else if (n.isObject()) {
                    out.add(fromObject(out.size(), n, null, where));
                } else {
                    throw new LoraidException(where + ": expected a string or an object");
                }
            }
            return out;
        }
        JsonNode prompt = root.get("prompt");
        if (prompt == null || !prompt.isObject()) {
            throw new LoraidException(file + ": expected a [prompt] table (TOML) or a list of prompts (JSON)");
        }
        JsonNode subsets = prompt.get("subset");
        if (subsets == null || !subsets.isArray()) {
            out.add(fromObject(0, prompt, null, file + ": [prompt]"));
            return out;
        }
        for (JsonNode s : subsets) {
            out.add(fromObject(out.size(), s, prompt, file + ": [[prompt.subset]] " + out.size()));
        }
        return out;
    }

    /** An object's keys over the shared {@code base} keys (TOML subsets). */
    private static Entry fromObject(int index, JsonNode n, JsonNode base, String where) {
        Map<String, String> values = new LinkedHashMap<>();
        for (JsonNode src : base == null ? List.of(n) : List.of(base, n)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = src.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getKey().equals("subset")) {
                    JsonNode v = e.getValue();
                    values.put(e.getKey(), v.isArray() ? String.join("\n", java.util.stream.StreamSupport.stream(
                            v.spliterator(), false).map(JsonNode::asText).toList()) : v.asText());
                }
            }
        }
        String text = values.remove("prompt");
        if (text == null) {
            throw new LoraidException(where + ": no \"prompt\" key");
        }
        for (String k : values.keySet()) {
            if (!List.of("width", "height", "frame_count", "seed", "sample_steps", "guidance_scale", "discrete_flow_shift",
                    "cfg_scale", "negative_prompt", "image_path", "end_image_path", "control_video_path", "one_frame",
                    "control_image_path").contains(k)) {
                throw new LoraidException(where + ": unknown key \"" + k + "\"");
            }
        }
        return new Entry(index, text, values, where);
    }

    private interface Options {
        String get(String key);
    }

    private static SamplePrompt build(int index, String prompt, Options o, String where) {
        return new SamplePrompt(index, prompt, integer(o, "width", SamplePrompt.DEFAULT_SIZE, where),
                integer(o, "height", SamplePrompt.DEFAULT_SIZE, where), integer(o, "frame_count", 1, where),
                o.get("seed") == null ? null : (long) integer(o, "seed", 0, where), integer(o, "sample_steps", SamplePrompt.DEFAULT_STEPS, where),
                number(o, "guidance_scale", where), o.get("discrete_flow_shift") == null ? SamplePrompt.DEFAULT_SHIFT
                        : number(o, "discrete_flow_shift", where), number(o, "cfg_scale", where), o.get("negative_prompt"),
                o.get("image_path"), o.get("end_image_path"), o.get("control_video_path"), o.get("one_frame"),
                o.get("control_image_path") == null ? List.of() : List.of(o.get("control_image_path").split("\n")));
    }

    private static int integer(Options o, String key, int dflt, String where) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new LoraidException(where + ": " + key + " expects an integer, got '" + v + "'");
        }
    }

    private static Double number(Options o, String key, String where) {
        String v = o.get(key);
        if (v == null) {
            return null;
        }
        try {
            return Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new LoraidException(where + ": " + key + " expects a number, got '" + v + "'");
        }
    }
}
