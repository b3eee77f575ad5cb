package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The output files of one run, written as a set: each is written to a temp file in its folder and fsynced
 * ({@link SafetensorsWriter#finish()} stages it); only when every declared output is staged does {@link #commit()}
 * rename them into place, in declaration order, and fsync their folders. Closing the set before a successful commit
 * deletes every temp file and touches no output, so a failure in any one output (an exception while computing or
 * writing it, a full disk) leaves the previous files at all output paths as they were.
 *
 * <p>What is not atomic: each rename is, but the renames together are not one step. If a rename fails or the
 * process dies part-way through {@link #commit()}, the outputs renamed so far are new and the others keep their
 * previous contents (or stay absent); a killed process also leaves its {@code .<name>.<hex>.tmp} files behind, and a
 * power loss before the folder fsync may undo a rename. The window is those few renames at the very end (the data
 * is already on disk), not the writing; a reader running at the same moment may see a mixed set. While the set is
 * open, the new files and the ones they will replace take disk space together.
 *
 * <p>Outputs are declared up front under the names the user gave them (flags): {@link #checkDistinct} refuses two
 * that resolve to the same file before any work is done.
 *
 * <pre>{@code
 * try (OutputSet outputs = new OutputSet(Map.of("--output_file", a, "--output_file_lora1", b))) {
 *     outputs.write(a, tensorsA, metaA);              // staged, not yet at a
 *     try (SafetensorsWriter w = outputs.create(b, entries, metaB)) {
 *         ...                                          // stream b's tensors
 *         w.finish();                                  // fsync; staged
 *     }
 *     outputs.commit();                                // both renamed into place
 * }                                                    // without commit: temp files deleted, a and b untouched
 * }</pre>
 */
public final class OutputSet implements AutoCloseable {
    /** Resolved path → the name it was declared under, in declaration order. */
    private final Map<Path, String> declared = new LinkedHashMap<>();
    /** Resolved path → its writer, once created. */
    private final Map<Path, SafetensorsWriter> writers = new LinkedHashMap<>();
    private boolean closed;

    /**
     * Declares the outputs, name (e.g. a flag, {@code "--output_file"}) → path; they are renamed in the map's order.
     *
     * @throws IllegalArgumentException if two resolve to the same file (see {@link #checkDistinct})
     */
    public OutputSet(Map<String, Path> outputs) {
        checkDistinct(outputs);
        outputs.forEach((name, path) -> declared.put(resolve(path), name));
    }

    /**
     * Refuses two outputs that resolve to the same file ({@code out/./a} and {@code out/a}; a folder reached through
     * a symlink; a symlink to the other output): the second would silently replace the first.
     *
     * @throws IllegalArgumentException naming both outputs' names and paths
     */
    public static void checkDistinct(Map<String, Path> outputs) {
        Map<Path, String> seen = new LinkedHashMap<>();
        outputs.forEach((name, path) -> {
            String other = seen.putIfAbsent(resolve(path), name);
            if (other != null) {
                throw new IllegalArgumentException(other + " " + outputs.get(other) + " and " + name + " " + path
                    + " are the same file; give each output its own path");
            }
        });
    }

    /**
     * Checks that the folder of every output (name → path, as for the constructor) exists, is a folder and is
     * writable: a run calls it before any work, so a wrong output path fails at once instead of after the outputs were
     * computed; a file name over NAME_MAX (255 bytes) fails here too. Temp files that a killed earlier run on this
     * host left in those folders are removed (see {@link TempFiles}). Writing can still fail later (a full disk, a folder removed meanwhile); the set then writes none.
     *
     * @throws IOException naming the first bad output's name, its path and what is wrong with its folder
     */
    public static void checkFolders(Map<String, Path> outputs) throws IOException {
        for (Map.Entry<String, Path> e : outputs.entrySet()) {
            Path folder = e.getValue().toAbsolutePath().normalize().getParent();
            String name = TempFiles.nameProblem(e.getValue());
            String problem = name != null ? name
                : folder == null ? "has no folder"
                : !Files.exists(folder) ? "is in a folder that does not exist: " + folder
                : !Files.isDirectory(folder) ? "is in " + folder + ", which is not a folder"
                : !Files.isWritable(folder) ? "is in a folder that is not writable: " + folder
                : null;
            if (problem != null) {
                throw new IOException(e.getKey() + " " + e.getValue() + " " + problem);
            }
            TempFiles.removeStale(folder); // what an earlier killed run of this host left behind
        }
    }

    /** The file a path names: real path of the file if it exists, else of its folder, else the normalized path. */
    private static Path resolve(Path path) {
        Path abs = path.toAbsolutePath().normalize();
        try {
            if (Files.exists(abs)) {
                return abs.toRealPath();
            }
            Path dir = abs.getParent();
            if (dir != null && Files.isDirectory(dir)) {
                return dir.toRealPath().resolve(abs.getFileName());
            }
        } catch (IOException e) {
            // unreadable: compare as written; writing it will report the problem
        }
        return abs;
    }

    /** A writer for the declared output {@code out}; its {@link SafetensorsWriter#finish()} stages the file. */
    public SafetensorsWriter create(Path out, List<SafetensorsWriter.Entry> entries, Map<String, String> metadata) throws IOException {
        return SafetensorsWriter.create(out, entries, metadata, this);
    }

    /** Writes and stages the declared output {@code out} in one go (see {@link SafetensorsWriter#write(Path, Map, Map)}). */
    public void write(Path out, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        SafetensorsWriter.write(out, tensors, metadata, this);
    }

    /** Checks that {@code out} is declared and not yet being written; returns its resolved path for {@link #register}. */
    Path claim(Path out) {
        if (closed) {
            throw new IllegalStateException(out + ": the output set is already committed or closed");
        }
        Path key = resolve(out);
        String name = declared.get(key);
        if (name == null) {
            throw new IllegalArgumentException(out + " is not one of the declared outputs " + declared.values());
        }
        if (writers.containsKey(key)) {
            throw new IllegalStateException(name + " " + out + " is written twice");
        }
        return key;
    }

    /** Records the writer of a claimed output (called by {@link SafetensorsWriter#create}). */
    void register(Path key, SafetensorsWriter w) {
        writers.put(key, w);
    }

    /**
     * Renames every staged output into place, in declaration order, then fsyncs their folders.
     *
     * @throws IllegalStateException if a declared output was not written and finished; nothing is renamed
     * @throws IOException if a rename fails; the outputs renamed before it stay new (see the class comment)
     */
    public void commit() throws IOException {
        if (closed) {
            throw new IllegalStateException("the output set is already committed or closed");
        }
        declared.forEach((path, name) -> {
            SafetensorsWriter w = writers.get(path);
            if (w == null || !w.isStaged()) {
                throw new IllegalStateException(name + " " + path + " was not " + (w == null ? "written" : "finished")
                    + "; nothing was renamed into place");
            }
        });
        closed = true;
        Set<Path> folders = new LinkedHashSet<>();
        try {
            for (Path path : declared.keySet()) {
                SafetensorsWriter w = writers.get(path);
                w.publish();
                folders.add(w.output().toAbsolutePath().getParent());
            }
        } catch (IOException | RuntimeException e) {
            try {
                discardAll();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        folders.forEach(SafetensorsWriter::syncDirectory);
    }

    /** Without a successful {@link #commit()}: deletes every temp file; no output path is touched. */
    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            discardAll();
        }
    }

    /** Deletes the temp file of every writer not published; the first failure is thrown after trying them all. */
    private void discardAll() throws IOException {
        IOException first = null;
        for (SafetensorsWriter w : writers.values()) {
            try {
                w.discard();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
