package dev.loraid.core.data;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a dataset config (spec training.md §4.1): TOML ({@code .toml}) or JSON ({@code .json}) parsed by Jackson,
 * then checked key by key like upstream's voluptuous schema. Every error is a {@link LoraidException} whose
 * message starts {@code file:line:column: key path:}, e.g.
 * {@code ds.toml:7:1: datasets[1].batch_size: expected an integer ≥ 1, got "two"} (array indices from 0).
 *
 * <p>Relative paths resolve against the working directory, as upstream does; a relative path that does not exist
 * there but does next to the config file resolves there instead (one info line says which). Nothing is required
 * to exist here: training needs only the cache directories, and {@link CachedDataset} says when one is missing.
 */
public final class DatasetConfigReader {
    /** Keys allowed in [general] and in every dataset. */
    static final Set<String> ASCENDABLE = Set.of(
        "resolution", "caption_extension", "batch_size", "num_repeats", "enable_bucket", "bucket_no_upscale");
    static final Set<String> IMAGE_ONLY = Set.of(
        "image_directory", "image_jsonl_file", "cache_directory", "control_directory", "multiple_target",
        "fp_latent_window_size", "fp_1f_clean_indices", "fp_1f_target_index", "fp_1f_no_post",
        "no_resize_control", "control_resolution");
    static final Set<String> VIDEO_ONLY = Set.of(
        "video_directory", "video_jsonl_file", "control_directory", "cache_directory", "target_frames",
        "frame_extraction", "frame_stride", "frame_sample", "max_frames", "source_fps", "fp_latent_window_size");
    static final Set<String> FRAME_EXTRACTIONS = Set.of("head", "chunk", "slide", "uniform", "full");
    static final Size DEFAULT_RESOLUTION = new Size(960, 544);

    private final Path file;
    private final Path workingDir;
    private final KeyLocations locations;
    private final Set<String> resolvedNextToConfig = new LinkedHashSet<>();

    private DatasetConfigReader(Path file, Path workingDir, KeyLocations locations) {
        this.file = file;
        this.workingDir = workingDir;
        this.locations = locations;
    }

    /**
     * Parses and validates {@code file}; relative paths in it resolve against {@code workingDir} (see the class
     * comment). Info lines go to {@code reporter}.
     */
    public static DatasetConfig read(Path file, Path workingDir, Reporter reporter) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean toml = name.endsWith(".toml");
        if (!toml && !name.endsWith(".json")) {
            throw new LoraidException(file + ": a dataset config must be a .toml or .json file");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new LoraidException(file + ": not a regular file (a folder, FIFO or device?); give a .toml or .json file");
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LoraidException(file + ": cannot read the dataset config (" + e.getMessage() + ")", e);
        }
        JsonNode root;
        KeyLocations locations = null;
        try {
            if (toml) {
                locations = KeyLocations.ofToml(text);
                root = new TomlMapper().readTree(text);
            } else {
                ObjectMapper json = JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();
                root = json.readTree(text);
                locations = KeyLocations.ofJson(text);
            }
        } catch (JacksonException e) {
            if (locations != null && locations.duplicatePath() != null && e.getOriginalMessage().startsWith("Duplicate key")) {
                KeyLocations.Location d = locations.duplicate();
                throw new LoraidException(file + ":" + d.line() + ":" + d.column() + ": " + locations.duplicatePath()
                    + ": syntax error: duplicate key", e);
            }
            JsonLocation l = e.getLocation();
            String where = l == null || l.getLineNr() < 1 ? file + ":" : file + ":" + l.getLineNr() + ":" + l.getColumnNr() + ":";
            throw new LoraidException(where + " syntax error: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new LoraidException(file + ": cannot read the dataset config (" + e.getMessage() + ")", e);
        }
        DatasetConfigReader r = new DatasetConfigReader(file, workingDir, locations);
        DatasetConfig config = r.parse(root);
        if (!r.resolvedNextToConfig.isEmpty()) {
            reporter.info(file + ": relative paths not found under the working directory " + workingDir
                + " resolved against the config file's folder instead: " + String.join(", ", r.resolvedNextToConfig));
        }
        return config;
    }

    private DatasetConfig parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw error("", "expected a table with [general] and [[datasets]], got " + describe(root));
        }
        checkKeys(root, "", Set.of("general", "datasets"), "top-level keys are general and datasets");
        JsonNode general = root.get("general");
        if (general == null) {
            general = JsonNodeFactory.instance.objectNode();
        } else if (!general.isObject()) {
            throw error("general", "expected a table, got " + describe(general));
        }
        checkKeys(general, "general", ASCENDABLE, "[general] takes only " + sorted(ASCENDABLE));
        JsonNode datasets = root.get("datasets");
        if (datasets == null || datasets.isArray() && datasets.isEmpty()) {
            throw error("datasets", "no [[datasets]] entries");
        }
        if (!datasets.isArray()) {
            throw error("datasets", "expected an array of tables ([[datasets]]), got " + describe(datasets));
        }
        List<DatasetSpec> specs = new ArrayList<>();
        Map<Path, Integer> cacheDirs = new HashMap<>();
        for (int i = 0; i < datasets.size(); i++) {
            DatasetSpec spec = dataset(i, datasets.get(i), general);
            Path key = spec.cacheDirectory().toAbsolutePath().normalize();
            Integer other = cacheDirs.putIfAbsent(key, i);
            if (other != null) {
                String p = "datasets[" + i + "]";
                String k = datasets.get(i).has("cache_directory") ? p + ".cache_directory"
                    : p + (spec.isVideo() ? ".video_directory" : ".image_directory");
                throw error(k, "cache directory " + spec.cacheDirectory() + " is also used by datasets[" + other
                    + "]; each dataset needs its own cache_directory");
            }
            specs.add(spec);
        }
        return new DatasetConfig(file, specs);
    }

    private DatasetSpec dataset(int index, JsonNode ds, JsonNode general) {
        String p = "datasets[" + index + "]";
        if (!ds.isObject()) {
            throw error(p, "expected a table, got " + describe(ds));
        }
        boolean image = ds.has("image_directory") || ds.has("image_jsonl_file");
        boolean video = ds.has("video_directory") || ds.has("video_jsonl_file");
        if (image && video) {
            throw error(p, "a dataset is either an image dataset (image_directory / image_jsonl_file) or a video "
                + "dataset (video_directory / video_jsonl_file), not both");
        }
        if (!image && !video) {
            throw error(p, "needs image_directory or image_jsonl_file (image dataset), or video_directory or "
                + "video_jsonl_file (video dataset)");
        }
        Set<String> allowed = new HashSet<>(ASCENDABLE);
        allowed.addAll(image ? IMAGE_ONLY : VIDEO_ONLY);
        checkKeys(ds, p, allowed, (image ? "an image" : "a video") + " dataset takes only " + sorted(allowed));

        Values v = new Values(p, ds, general);
        Size resolution = v.size("resolution", DEFAULT_RESOLUTION);
        String captionExtension = v.string("caption_extension", null);
        int batchSize = v.positiveInt("batch_size", 1);
        int numRepeats = v.positiveInt("num_repeats", 1);
        boolean enableBucket = v.bool("enable_bucket", false);
        boolean noUpscale = v.bool("bucket_no_upscale", false);
        if (enableBucket) {
            try {
                new BucketSelector(resolution, true, noUpscale);
            } catch (IllegalArgumentException e) {
                throw error(v.where("resolution"), e.getMessage());
            }
        }
        Path controlDirectory = v.path("control_directory");
        int window = v.positiveInt("fp_latent_window_size", 9);
        Path cacheDirectory = v.path("cache_directory");
        if (image) {
            Path dir = v.path("image_directory");
            Path jsonl = v.path("image_jsonl_file");
            if (cacheDirectory == null) {
                if (dir == null) {
                    throw error(p, "cache_directory is required with image_jsonl_file");
                }
                cacheDirectory = dir;
            }
            List<Integer> clean = v.intList("fp_1f_clean_indices", null, 0);
            Integer target = ds.has("fp_1f_target_index") ? v.intAtLeast("fp_1f_target_index", 0, 0) : null;
            return new DatasetSpec(index, DatasetSpec.Kind.IMAGE, resolution, captionExtension, batchSize, numRepeats,
                enableBucket, noUpscale, dir, jsonl, null, null, controlDirectory, cacheDirectory, window,
                v.bool("multiple_target", false), clean, target, v.bool("fp_1f_no_post", false),
                v.bool("no_resize_control", false), v.size("control_resolution", null),
                null, null, 0, 0, 0, null);
        }
        Path dir = v.path("video_directory");
        Path jsonl = v.path("video_jsonl_file");
        if (cacheDirectory == null) {
            if (dir == null) {
                throw error(p, "cache_directory is required with video_jsonl_file");
            }
            cacheDirectory = dir;
        }
        List<Integer> targetFrames = v.intList("target_frames", List.of(1), 1);
        if (targetFrames.isEmpty()) {
            throw error(v.where("target_frames"), "expected at least one frame count");
        }
        String extraction = v.string("frame_extraction", "head");
        if (!FRAME_EXTRACTIONS.contains(extraction)) {
            throw error(v.where("frame_extraction"), "expected one of " + sorted(FRAME_EXTRACTIONS) + ", got \""
                + extraction + "\"");
        }
        Double sourceFps = null;
        if (ds.has("source_fps")) {
            JsonNode n = ds.get("source_fps");
            if (!n.isNumber() || !(n.asDouble() > 0) || Double.isInfinite(n.asDouble())) {
                throw error(p + ".source_fps", "expected a number > 0, got " + describe(n));
            }
            sourceFps = n.asDouble();
        }
        return new DatasetSpec(index, DatasetSpec.Kind.VIDEO, resolution, captionExtension, batchSize, numRepeats,
            enableBucket, noUpscale, null, null, dir, jsonl, controlDirectory, cacheDirectory, window,
            false, null, null, false, false, null,
            targetFrames, extraction, v.positiveInt("frame_stride", 1), v.positiveInt("frame_sample", 1),
            v.positiveInt("max_frames", 129), sourceFps);
    }

    /** Typed lookups dataset → [general] → default, with errors at the key the value came from. */
    private final class Values {
        private final String prefix;
        private final JsonNode ds;
        private final JsonNode general;

        Values(String prefix, JsonNode ds, JsonNode general) {
            this.prefix = prefix;
            this.ds = ds;
            this.general = general;
        }

        /** The path of the key's value: the dataset's own, else [general]'s (only ascendable keys reach here). */
        String where(String key) {
            return ds.has(key) || !general.has(key) ? prefix + "." + key : "general." + key;
        }

        private JsonNode node(String key) {
            return ds.has(key) ? ds.get(key) : general.get(key);
        }

        int positiveInt(String key, int dflt) {
            return intAtLeast(key, 1, dflt);
        }

        int intAtLeast(String key, int min, int dflt) {
            JsonNode n = node(key);
            if (n == null) {
                return dflt;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min) {
                throw error(where(key), "expected an integer ≥ " + min + ", got " + describe(n));
            }
            return n.intValue();
        }

        boolean bool(String key, boolean dflt) {
            JsonNode n = node(key);
            if (n == null) {
                return dflt;
            }
            if (!n.isBoolean()) {
                throw error(where(key), "expected true or false, got " + describe(n));
            }
            return n.booleanValue();
        }

        String string(String key, String dflt) {
            JsonNode n = node(key);
            if (n == null) {
                return dflt;
            }
            if (!n.isTextual()) {
                throw error(where(key), "expected a string, got " + describe(n));
            }
            return n.textValue();
        }

        /** An int s (→ s×s) or [width, height], both > 0. */
        Size size(String key, Size dflt) {
            JsonNode n = node(key);
            if (n == null) {
                return dflt;
            }
            String expected = "expected a positive integer or [width, height] of positive integers, got ";
            if (n.isIntegralNumber() && n.canConvertToInt() && n.intValue() > 0) {
                return new Size(n.intValue(), n.intValue());
            }
            if (n.isArray() && n.size() == 2) {
                JsonNode w = n.get(0);
                JsonNode h = n.get(1);
                if (w.isIntegralNumber() && w.canConvertToInt() && w.intValue() > 0
                    && h.isIntegralNumber() && h.canConvertToInt() && h.intValue() > 0) {
                    return new Size(w.intValue(), h.intValue());
                }
            }
            throw error(where(key), expected + describe(n));
        }

        List<Integer> intList(String key, List<Integer> dflt, int min) {
            JsonNode n = node(key);
            if (n == null) {
                return dflt;
            }
            String expected = "expected a list of integers ≥ " + min + ", got ";
            if (!n.isArray()) {
                throw error(where(key), expected + describe(n));
            }
            List<Integer> out = new ArrayList<>();
            for (JsonNode e : n) {
                if (!e.isIntegralNumber() || !e.canConvertToInt() || e.intValue() < min) {
                    throw error(where(key), expected + describe(n));
                }
                out.add(e.intValue());
            }
            return List.copyOf(out);
        }

        /** A path string, resolved (see the class comment); null when absent. */
        Path path(String key) {
            String s = string(key, null);
            if (s == null) {
                return null;
            }
            if (s.isEmpty()) {
                throw error(where(key), "expected a path, got \"\"");
            }
            Path raw;
            try {
                raw = Path.of(s);
            } catch (InvalidPathException e) {
                throw error(where(key), "not a valid path: \"" + s + "\" (" + e.getReason() + ")");
            }
            if (raw.isAbsolute()) {
                return raw;
            }
            Path inWorkingDir = workingDir.resolve(raw).normalize();
            Path configDir = file.toAbsolutePath().getParent();
            if (!Files.exists(inWorkingDir) && configDir != null) {
                Path nextToConfig = configDir.resolve(raw).normalize();
                if (Files.exists(nextToConfig)) {
                    resolvedNextToConfig.add(s);
                    return nextToConfig;
                }
            }
            return inWorkingDir;
        }
    }

    private void checkKeys(JsonNode node, String prefix, Set<String> allowed, String hint) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw error(prefix.isEmpty() ? k : prefix + "." + k, "unknown key (" + hint + ")");
            }
        }
    }

    private LoraidException error(String path, String message) {
        KeyLocations.Location l = locations.find(path);
        String where = l == null ? file + ":" : file + ":" + l.line() + ":" + l.column() + ":";
        return new LoraidException(where + (path.isEmpty() ? " " : " " + path + ": ") + message);
    }

    private static String describe(JsonNode n) {
        if (n == null) {
            return "nothing";
        }
        return n.isContainerNode() && n.toString().length() > 60 ? n.toString().substring(0, 57) + "..." : n.toString();
    }

    private static String sorted(Set<String> keys) {
        return String.join(", ", new TreeSet<>(keys));
    }
}
