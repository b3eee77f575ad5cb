package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.json.Json;
import dev.loraid.tensor.json.JsonFormatException;
import dev.loraid.tensor.pth.PthFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Resolves what a user named (file, shard, index, directory) to the files of one checkpoint (spec wan.md §3.3). */
final class CheckpointFiles {
    /** {@code <prefix>NNNNN-of-MMMMM.safetensors}, the Hugging Face shard naming that musubi also recognises. */
    static final Pattern SHARD = Pattern.compile("(.*?)(\\d{5})-of-(\\d{5})\\.safetensors");
    private static final String INDEX_SUFFIX = ".safetensors.index.json";

    private CheckpointFiles() {
    }

    static TensorSource open(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such file or directory");
        }
        if (Files.isDirectory(path)) {
            return openDirectory(path);
        }
        SafetensorsFile.requireRegularFile(path);
        String name = path.getFileName().toString();
        if (name.endsWith(".index.json")) {
            return openIndex(path);
        }
        if (name.endsWith(".pth") || name.endsWith(".pt")) {
            return PthFile.open(path); // torch.save, read by a restricted unpickler (issue 13)
        }
        Matcher m = SHARD.matcher(name);
        if (m.matches()) {
            return openShards(path, m);
        }
        return SafetensorsFile.open(path);
    }

    private static TensorSource openDirectory(Path dir) throws IOException {
        List<Path> indexes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<String> subfolders = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.endsWith(INDEX_SUFFIX)) {
                    indexes.add(p);
                } else if (n.endsWith(".safetensors") && Files.isRegularFile(p)) {
                    files.add(p);
                } else if (Files.isDirectory(p)) {
                    subfolders.add(n);
                }
            }
        }
        files.sort(null);
        if (indexes.size() == 1) {
            return openIndex(indexes.getFirst());
        }
        if (indexes.size() > 1) {
            throw new IOException(dir + ": holds " + indexes.size() + " shard indexes (*" + INDEX_SUFFIX + "); name one");
        }
        if (files.size() == 1) {
            return SafetensorsFile.open(files.getFirst());
        }
        if (files.isEmpty()) {
            subfolders.sort(null);
            // A14B releases: high_noise_model/ and low_noise_model/ are two checkpoints, never one
            throw new IOException(dir + ": holds no .safetensors file" + (subfolders.isEmpty() ? ""
                : "; name one of its subfolders (" + String.join(", ", subfolders) + ")"));
        }
        Matcher m = SHARD.matcher(files.getFirst().getFileName().toString());
        if (m.matches() && shardPaths(files.getFirst(), m).equals(files)) {
            return openShards(files.getFirst(), m);
        }
        throw new IOException(dir + ": holds " + files.size() + " .safetensors files that are not one set of "
            + "NNNNN-of-MMMMM shards; name the file(s) to read");
    }

    private static TensorSource openShards(Path oneShard, Matcher m) throws IOException {
        List<Path> paths = shardPaths(oneShard, m);
        for (Path p : paths) {
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(p.toString(), null, "shard missing (" + oneShard.getFileName()
                    + " says there are " + paths.size() + ")");
            }
        }
        return ShardedCheckpoint.open(paths.getFirst() + " (+" + (paths.size() - 1) + " shards)", paths, null);
    }

    /** Every shard path of the set {@code oneShard} belongs to, 1..M in order. */
    private static List<Path> shardPaths(Path oneShard, Matcher m) throws IOException {
        int count = Integer.parseInt(m.group(3));
        if (count == 0 || Integer.parseInt(m.group(2)) == 0 || Integer.parseInt(m.group(2)) > count) {
            throw new IOException(oneShard + ": shard number " + m.group(2) + " of " + m.group(3) + " is out of range");
        }
        List<Path> paths = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            paths.add(oneShard.resolveSibling(String.format("%s%05d-of-%s.safetensors", m.group(1), i, m.group(3))));
        }
        return paths;
    }

    /** {@code {"metadata": {...}, "weight_map": {"name": "shard file name", ...}}}, as transformers/diffusers write. */
    private static TensorSource openIndex(Path index) throws IOException {
        String source = index.toString();
        long size = Files.size(index);
        if (size > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(source, null, "index is " + size + " bytes, over the 100 MB limit");
        }
        Object root;
        try {
            root = Json.parseUtf8(ByteBuffer.wrap(Files.readAllBytes(index)), 8);
        } catch (JsonFormatException e) {
            throw new SafetensorsFormatException(source, null, "not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> top) || !(top.get("weight_map") instanceof Map<?, ?> weightMap)) {
            throw new SafetensorsFormatException(source, null, "expected a JSON object with a \"weight_map\" object");
        }
        Map<String, String> expected = new LinkedHashMap<>();
        Set<String> shardNames = new LinkedHashSet<>();
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            if (!(e.getValue() instanceof String file) || file.isEmpty() || file.contains("/") || file.contains("\\")
                || file.equals(".") || file.equals("..")) {
                throw new SafetensorsFormatException(source, (String) e.getKey(), "weight_map value " + Json.typeName(e.getValue())
                    + " is not a file name in the index's folder");
            }
            expected.put((String) e.getKey(), file);
            shardNames.add(file);
        }
        if (shardNames.isEmpty()) {
            throw new SafetensorsFormatException(source, null, "weight_map is empty");
        }
        List<Path> paths = new ArrayList<>();
        for (String n : shardNames.stream().sorted().toList()) {
            Path p = index.resolveSibling(n);
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(p.toString(), null, "shard named by " + index.getFileName() + " is missing");
            }
            paths.add(p);
        }
        return ShardedCheckpoint.open(source + " (" + paths.size() + " shards)", paths, expected);
    }
}
