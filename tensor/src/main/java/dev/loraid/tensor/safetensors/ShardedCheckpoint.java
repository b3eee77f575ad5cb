package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Several safetensors files read as one checkpoint (official releases split the 14B DiT into
 * {@code diffusion_pytorch_model-0000N-of-00006.safetensors}, spec wan.md §3.3). Names are listed shard by shard;
 * a name held by two shards is an error. The metadata is the union of the shards' metadata, the first shard
 * winning on a repeated key. Usually opened through {@link TensorSource#open}.
 */
public final class ShardedCheckpoint implements TensorSource {
    private final String description;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> byName;
    private final List<String> names;
    private final Map<String, String> metadata;

    private ShardedCheckpoint(String description, List<SafetensorsFile> shards, Map<String, SafetensorsFile> byName,
                              Map<String, String> metadata) {
        this.description = description;
        this.shards = List.copyOf(shards);
        this.byName = byName;
        this.names = List.copyOf(byName.keySet());
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Opens {@code files} (in the given order) as one checkpoint. */
    public static ShardedCheckpoint open(List<Path> files) throws IOException {
        return open(files.size() + " files starting with " + files.getFirst(), files, null);
    }

    /**
     * Opens the files; if {@code expected} (name → shard file name, from an index) is given, each shard must hold
     * exactly the names the index assigns to it.
     */
    static ShardedCheckpoint open(String description, List<Path> files, Map<String, String> expected) throws IOException {
        List<SafetensorsFile> shards = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Path p : files) {
                SafetensorsFile f = SafetensorsFile.open(p);
                shards.add(f);
                for (String name : f.names()) {
                    SafetensorsFile other = byName.putIfAbsent(name, f);
                    if (other != null) {
                        throw new SafetensorsFormatException(description, name, "is in both " + other.path() + " and " + p);
                    }
                    String indexed = expected == null ? null : expected.get(name);
                    if (expected != null && !p.getFileName().toString().equals(indexed)) {
                        throw new SafetensorsFormatException(description, name, "is in " + p + " but the index "
                            + (indexed == null ? "does not list it" : "puts it in " + indexed));
                    }
                }
                f.metadata().forEach(metadata::putIfAbsent);
            }
            if (expected != null) {
                for (Map.Entry<String, String> e : expected.entrySet()) {
                    if (!byName.containsKey(e.getKey())) {
                        throw new SafetensorsFormatException(description, e.getKey(), "is listed in the index but missing from " + e.getValue());
                    }
                }
            }
            return new ShardedCheckpoint(description, shards, byName, metadata);
        } catch (IOException | RuntimeException e) {
            shards.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The shard files, in order. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    private SafetensorsFile shardOf(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new NoSuchElementException(description + ": no tensor named '" + name + "'");
        }
        return f;
    }

    @Override
    public TensorInfo info(String name) {
        return shardOf(name).info(name);
    }

    @Override
    public Tensor tensor(String name) {
        return shardOf(name).tensor(name);
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "ShardedCheckpoint[" + description + ", " + names.size() + " tensors]";
    }
}
