package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One safetensors file, memory-mapped read-only. The header is validated in full on open (see
 * {@link SafetensorsHeader}); only the header is read, so opening a 28 GB checkpoint costs milliseconds and no
 * heap beyond the header. Tensors are zero-copy views of the mapping: their {@link Storage} names this file as
 * its owner.
 *
 * <p>Lifetime: the mapping lives in a shared {@link Arena} that {@link #close()} releases, so the address space
 * of a large checkpoint is returned deterministically (not at some later GC). Views die with the file: using a
 * tensor after close throws {@link IllegalStateException}; it never reads freed memory. Keep the file open for
 * as long as a model uses its weights, or copy them. Thread-safe for reading.
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(Path.of("lora.safetensors"))) {
 *     String alpha = f.metadata().get("ss_network_alpha");
 *     Tensor down = f.tensor("lora_unet_blocks_0_self_attn_q.lora_down.weight"); // [rank, in], no copy
 * }
 * }</pre>
 */
public final class SafetensorsFile implements TensorSource {
    /** Real paths of the files open in this JVM, with counts: a writer refuses to replace one (see SafetensorsWriter). */
    private static final Map<Path, Integer> OPEN = new ConcurrentHashMap<>();

    private final Path path;
    private final Path realPath;
    private final SafetensorsHeader header;
    private final Map<String, TensorInfo> byName;
    private final List<String> names;
    private final Arena arena;
    private final MemorySegment data;
    private volatile boolean closed;

    private SafetensorsFile(Path path, Path realPath, SafetensorsHeader header, Arena arena, MemorySegment data) {
        this.path = path;
        this.realPath = realPath;
        this.header = header;
        this.arena = arena;
        this.data = data;
        Map<String, TensorInfo> m = new HashMap<>();
        List<String> n = new ArrayList<>(header.tensors().size());
        for (TensorInfo t : header.tensors()) {
            m.put(t.name(), t);
            n.add(t.name());
        }
        this.byName = m;
        this.names = Collections.unmodifiableList(n);
    }

    /**
     * Refuses a path that exists but is not a regular file, before it is opened: opening a FIFO for reading blocks
     * until a writer appears (forever, for a typo'd path), and a device never ends.
     */
    static void requireRegularFile(Path path) throws IOException {
        if (Files.exists(path) && !Files.isDirectory(path) && !Files.isRegularFile(path)) {
            throw new IOException(path + ": not a regular file (a FIFO, socket or device?); give a checkpoint file");
        }
    }

    /**
     * Opens and validates {@code path}. Throws {@link NoSuchFileException} if it does not exist,
     * {@link SafetensorsFormatException} naming the file (and tensor) if it is not a valid safetensors file.
     */
    public static SafetensorsFile open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new IOException(path + ": is a directory, not a safetensors file");
        }
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such file");
        }
        requireRegularFile(path);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            SafetensorsHeader header = SafetensorsHeader.read(path.toString(), size, (offset, length) -> {
                ByteBuffer b = ByteBuffer.allocate(length);
                while (b.hasRemaining() && ch.read(b, offset + b.position()) >= 0) {
                    // a positional read may return fewer bytes; loop until full or end of file
                }
                return b.flip();
            });
            Arena arena = Arena.ofShared();
            MemorySegment data;
            try {
                // the channel may close after mapping: the mapping holds the file open by itself
                data = header.dataSize() == 0 ? MemorySegment.NULL
                    : ch.map(FileChannel.MapMode.READ_ONLY, header.dataStart(), header.dataSize(), arena);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
            Path real = path.toRealPath();
            OPEN.merge(real, 1, Integer::sum);
            return new SafetensorsFile(path, real, header, arena, data);
        }
    }

    /** Whether some {@code SafetensorsFile} in this JVM has {@code path} open now. */
    static boolean isOpen(Path path) {
        try {
            return OPEN.containsKey(path.toRealPath());
        } catch (IOException e) {
            return false;
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public String describe() {
        return path.toString();
    }

    /** The validated header (metadata, tensor entries, data section position). */
    public SafetensorsHeader header() {
        return header;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) {
            throw new NoSuchElementException(path + ": no tensor named '" + name + "'");
        }
        return t;
    }

    @Override
    public Tensor tensor(String name) {
        TensorInfo t = info(name);
        if (closed) {
            throw new IllegalStateException(path + ": closed; cannot read tensor '" + name + "'");
        }
        MemorySegment bytes = t.byteSize() == 0 ? MemorySegment.ofArray(new byte[0]) : data.asSlice(t.begin(), t.byteSize());
        Storage storage = new Storage(Device.CPU, bytes, this);
        return new Tensor(storage, t.dtype(), t.shape(), t.shape().contiguousStrides(), 0);
    }

    @Override
    public Map<String, String> metadata() {
        return header.metadata();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.computeIfPresent(realPath, (p, count) -> count == 1 ? null : count - 1);
        arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + names.size() + " tensors]";
    }
}
