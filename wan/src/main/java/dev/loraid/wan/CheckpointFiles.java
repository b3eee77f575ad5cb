package dev.loraid.wan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Which safetensors files make up one DiT (spec wan.md §3.3): a single file; one shard
 * {@code <prefix>NNNNN-of-MMMMM.safetensors}, which stands for all MMMMM shards with that prefix; or a folder
 * holding one file or one shard set. An A14B release folder holds two DiTs ({@code high_noise_model/},
 * {@code low_noise_model/}): the caller names the expert's folder.
 */
public final class CheckpointFiles {
    private static final Pattern SHARD = Pattern.compile("(.*)(\\d{5})-of-(\\d{5})\\.safetensors");

    private CheckpointFiles() {
    }

    /** The files, in shard order; throws naming the path and what was expected when they cannot be found. */
    public static List<Path> resolve(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return inFolder(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new IOException(path + ": no such file");
        }
        Matcher m = SHARD.matcher(path.getFileName().toString());
        if (!m.matches()) {
            return List.of(path);
        }
        int count = Integer.parseInt(m.group(3));
        List<Path> shards = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            Path p = path.resolveSibling(String.format("%s%05d-of-%s.safetensors", m.group(1), i, m.group(3)));
            if (!Files.isRegularFile(p)) {
                throw new IOException(path + ": shard " + p.getFileName() + " of " + count + " is missing");
            }
            shards.add(p);
        }
        return shards;
    }

    private static List<Path> inFolder(Path dir) throws IOException {
        if (Files.isDirectory(dir.resolve(WanVariant.HIGH_NOISE)) || Files.isDirectory(dir.resolve(WanVariant.LOW_NOISE))) {
            throw new IOException(dir + " holds the two Wan 2.2 A14B experts: give " + dir.resolve(WanVariant.HIGH_NOISE)
                    + " or " + dir.resolve(WanVariant.LOW_NOISE));
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IOException(dir + ": no .safetensors file in this folder");
        }
        if (files.size() == 1) {
            return files;
        }
        Matcher m = SHARD.matcher(files.getFirst().getFileName().toString());
        List<Path> shards = m.matches() ? resolve(files.getFirst()) : List.of();
        if (!shards.equals(files)) {
            throw new IOException(dir + ": " + files.size() + " .safetensors files that are not one shard set "
                    + "(<name>NNNNN-of-MMMMM.safetensors): give the model file itself");
        }
        return shards;
    }
}
