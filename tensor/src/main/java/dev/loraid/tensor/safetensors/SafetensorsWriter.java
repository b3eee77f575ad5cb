package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.NonFinite;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.json.JsonWriter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a safetensors file one tensor at a time, so that a merge or conversion holds about one tensor in
 * memory, never the whole file. All entries (name, dtype, shape) are declared up front: the header, with every
 * offset computed from the shapes, goes first; then each tensor's bytes are supplied in declaration order, from
 * a tensor of any strides, dtype and device (cast to the declared dtype, round-to-nearest-even for narrow
 * floats).
 *
 * <p>Layout: tensors are written in the order given (header keys and data alike), {@code __metadata__} first
 * (only when non-empty), compact JSON padded with spaces to a multiple of 8 bytes. Sort the entries by name
 * first to match the reference tooling; reading a file and writing its {@link TensorSource#names()} back in order
 * with its metadata reproduces it byte for byte.
 *
 * <p>Atomic: bytes go to a temp file in the output's folder, which {@link #finish()} fsyncs and renames over
 * the output (then fsyncs the folder). If {@code finish} is not reached, {@link #close()} deletes the temp file
 * and the output is untouched. The output may not be a directory, nor a file open for reading in this JVM.
 * A writer made by {@link OutputSet#create} only fsyncs in {@code finish}; its set renames all its files together.
 *
 * <pre>{@code
 * List<SafetensorsWriter.Entry> entries = names.stream()
 *     .map(n -> new SafetensorsWriter.Entry(n, DType.BF16, base.info(n).shape())).toList();
 * try (SafetensorsWriter w = SafetensorsWriter.create(out, entries, Map.of("ss_network_dim", "16"))) {
 *     for (String n : names) {
 *         w.write(n, merged(n));   // peak memory: one tensor
 *     }
 *     w.finish();                  // fsync + atomic rename; without it, nothing appears at out
 * }
 * }</pre>
 */
public final class SafetensorsWriter implements AutoCloseable {
    /** Casts go through a buffer of this many bytes, whatever the tensor's size. */
    private static final int CAST_CHUNK_BYTES = 4 << 20;
    /** Bytes per slice of a tensor's data handed to {@link #writeFully}: a ByteBuffer holds at most an int's worth. */
    private static final long WRITE_CHUNK_BYTES = 1L << 30;
    /** Bytes per write system call (see {@link #writeFully}). */
    private static final int WRITE_CALL_BYTES = 128 << 10;

    /**
     * Bound to true around code whose outputs may hold NaN/±Inf (a command's {@code --allow_non_finite}); a writer
     * created outside such a scope refuses a tensor with a non-finite value ({@link NonFiniteException}) before the
     * output is committed, so a silent overflow (a multiplier of 1e39, fp16 saturation) never ends as a file.
     */
    public static final ScopedValue<Boolean> ALLOW_NON_FINITE = ScopedValue.newInstance();

    /** One declared tensor. */
    public record Entry(String name, DType dtype, Shape shape) {
        public long byteSize() {
            return Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        }
    }

    /** OPEN: being written; STAGED: complete and fsynced, its {@link OutputSet} renames it; PUBLISHED, DISCARDED: final. */
    private enum State { OPEN, STAGED, PUBLISHED, DISCARDED }

    private final Path out;
    private final Path temp;
    private final FileChannel channel;
    private final List<Entry> entries;
    /** The set this file belongs to, or null for a file renamed into place by its own {@link #finish()}. */
    private final OutputSet set;
    private int next;
    private State state = State.OPEN;
    private MemorySegment castBuffer;
    private final boolean checkFinite = !ALLOW_NON_FINITE.orElse(false);

    private SafetensorsWriter(Path out, Path temp, FileChannel channel, List<Entry> entries, OutputSet set) {
        this.out = out;
        this.temp = temp;
        this.channel = channel;
        this.entries = entries;
        this.set = set;
    }

    /** Declares the file's tensors and metadata and writes the header; tensors follow with {@link #write}. */
    public static SafetensorsWriter create(Path out, List<Entry> entries, Map<String, String> metadata) throws IOException {
        return create(out, entries, metadata, null);
    }

    static SafetensorsWriter create(Path out, List<Entry> entries, Map<String, String> metadata, OutputSet set) throws IOException {
        List<Entry> list = List.copyOf(entries);
        byte[] header = header(out, list, metadata);
        Path key = set == null ? null : set.claim(out);
        checkOutput(out);
        Path dir = out.toAbsolutePath().getParent();
        TempFiles.removeStale(dir);
        // not Files.createTempFile: its 0600 mode would end up on the output; CREATE_NEW honours the umask
        Path temp = dir.resolve(TempFiles.name(out.getFileName().toString()));
        FileChannel ch;
        try {
            ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
        } catch (IOException e) {
            throw new IOException(out + ": cannot create the temp file " + temp.getFileName() + " in " + dir + ": "
                + TempFiles.reason(e), e);
        }
        TempFiles.track(temp);
        try {
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, prefix);
            writeFully(ch, ByteBuffer.wrap(header));
            SafetensorsWriter w = new SafetensorsWriter(out, temp, ch, list, set);
            if (set != null) {
                set.register(key, w);
            }
            return w;
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(temp);
            TempFiles.untrack(temp);
            throw e;
        }
    }

    /** Writes {@code tensors} (in map order, each in its own dtype) and {@code metadata} to {@code out} in one go. */
    public static void write(Path out, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(out, tensors, metadata, null);
    }

    static void write(Path out, Map<String, Tensor> tensors, Map<String, String> metadata, OutputSet set) throws IOException {
        List<Entry> entries = new ArrayList<>(tensors.size());
        tensors.forEach((n, t) -> entries.add(new Entry(n, t.dtype(), t.shape())));
        try (SafetensorsWriter w = create(out, entries, metadata, set)) {
            for (Tensor t : tensors.values()) {
                w.write(t);
            }
            w.finish();
        }
    }

    /**
     * The header JSON, space-padded so that 8 + its length is a multiple of 8: exactly the bytes {@link #create}
     * writes after the length prefix (public for content hashes over a file's serialization, spec loraid.md REQ-META-4).
     */
    public static byte[] header(Path out, List<Entry> entries, Map<String, String> metadata) {
        Map<String, Object> root = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            metadata.forEach((k, v) -> {
                if (k == null || v == null) {
                    throw new IllegalArgumentException(out + ": metadata key '" + k + "' has a null key or value");
                }
            });
            root.put("__metadata__", metadata);
        }
        Set<String> seen = new HashSet<>();
        long offset = 0;
        for (Entry e : entries) {
            if (e.name() == null || e.name().equals("__metadata__") || !seen.add(e.name())) {
                throw new IllegalArgumentException(out + ": tensor name '" + e.name() + "' is "
                    + (e.name() != null && e.name().equals("__metadata__") ? "reserved" : "null or declared twice"));
            }
            long end = offset + e.byteSize();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", e.dtype().safetensorsName());
            info.put("shape", e.shape().toArray());
            info.put("data_offsets", new long[] {offset, end});
            root.put(e.name(), info);
            offset = end;
        }
        byte[] json = JsonWriter.compact(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        if (padded > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException(out + ": header of " + padded + " bytes is over the 100 MB limit readers accept");
        }
        byte[] h = new byte[padded];
        System.arraycopy(json, 0, h, 0, json.length);
        Arrays.fill(h, json.length, padded, (byte) ' ');
        return h;
    }

    private static void checkOutput(Path out) throws IOException {
        if (Files.isDirectory(out)) {
            throw new IOException(out + ": is a directory; give the output file's name");
        }
        String tooLong = TempFiles.nameProblem(out);
        if (tooLong != null) {
            throw new IOException(out + ": " + tooLong);
        }
        Path dir = out.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IOException(out + ": folder " + dir + (dir != null && Files.exists(dir) ? " is not a folder" : " does not exist"));
        }
        if (Files.exists(out) && SafetensorsFile.isOpen(out)) {
            throw new IOException(out + ": is open as an input; write the output to another file");
        }
    }

    /** The next declared entry, or null when all are written. */
    public Entry nextEntry() {
        return next < entries.size() ? entries.get(next) : null;
    }

    /** Writes the next declared tensor, checking that it is called {@code name}. */
    public void write(String name, Tensor t) throws IOException {
        Entry e = nextEntry();
        if (e != null && !e.name().equals(name)) {
            throw new IllegalStateException(out + ": tensor '" + name + "' written out of order; '" + e.name() + "' comes next");
        }
        write(t);
    }

    /** Writes the next declared tensor's data from {@code t} (same shape; any strides, dtype and device). */
    public void write(Tensor t) throws IOException {
        if (state != State.OPEN) {
            throw new IllegalStateException(out + ": already finished or closed");
        }
        Entry e = nextEntry();
        if (e == null) {
            throw new IllegalStateException(out + ": all " + entries.size() + " declared tensors are already written");
        }
        if (!t.shape().equals(e.shape())) {
            throw new IllegalArgumentException(out + ": tensor '" + e.name() + "' was declared " + e.shape() + " but has shape " + t.shape());
        }
        Tensor host = t.device().isCpu() ? t : t.to(Device.CPU);
        long before = channel.position();
        if (host.dtype() == e.dtype() && host.isContiguous()) {
            long bytes = e.byteSize();
            MemorySegment seg = host.storage().segment().asSlice(host.offset() * e.dtype().byteSize(), bytes);
            checkFinite(e, seg, 0);
            for (long o = 0; o < bytes; o += WRITE_CHUNK_BYTES) {
                writeFully(channel, seg.asSlice(o, Math.min(WRITE_CHUNK_BYTES, bytes - o)).asByteBuffer());
            }
        } else {
            writeCast(host.contiguous(), e);
        }
        if (channel.position() - before != e.byteSize()) {
            throw new IllegalStateException(out + ": tensor '" + e.name() + "' wrote " + (channel.position() - before)
                + " bytes, expected " + e.byteSize());
        }
        next++;
    }

    /** Casts a contiguous tensor chunk by chunk through a fixed buffer, using the CPU backend's copy. */
    private void writeCast(Tensor src, Entry e) throws IOException {
        DType target = e.dtype();
        long n = src.numel();
        Tensor flat = src.view(n);
        long chunk = CAST_CHUNK_BYTES / target.byteSize();
        if (castBuffer == null) {
            castBuffer = Arena.ofAuto().allocate(CAST_CHUNK_BYTES, 64);
        }
        for (long start = 0; start < n; start += chunk) {
            long len = Math.min(chunk, n - start);
            MemorySegment bytes = castBuffer.asSlice(0, len * target.byteSize());
            Tensor dst = new Tensor(Storage.host(bytes), target, Shape.of(len), new long[] {1}, 0);
            dst.backend().copy(flat.narrow(0, start, len), dst);
            checkFinite(e, bytes, start); // after the cast: a finite fp32 value may saturate to Inf in fp16
            writeFully(channel, bytes.asByteBuffer());
        }
    }

    /** Throws {@link NonFiniteException} naming the tensor and the flat index of its first NaN/Inf in {@code bytes}. */
    private void checkFinite(Entry e, MemorySegment bytes, long firstIndex) throws NonFiniteException {
        if (!checkFinite) {
            return;
        }
        long i = NonFinite.firstIndex(bytes, e.dtype());
        if (i >= 0) {
            throw new NonFiniteException(out + ": tensor '" + e.name() + "' " + e.shape() + " " + e.dtype().safetensorsName()
                + " holds " + NonFinite.name(bytes, e.dtype(), i) + " at flat index " + (firstIndex + i)
                + "; refusing to write non-finite values, the output was not written");
        }
    }

    /**
     * Forces the bytes written so far to the disk (fdatasync). Another thread may call it while this writer writes
     * (a file channel's force and writes run concurrently): flushing now and then while the writing goes on leaves
     * little for {@link #finish()} to wait for.
     */
    public void force() throws IOException {
        channel.force(false);
    }

    /**
     * Checks that every declared tensor was written and fsyncs; then atomically renames the temp file to the output,
     * unless the writer belongs to an {@link OutputSet}, which renames it with the others on {@link OutputSet#commit()}.
     */
    public void finish() throws IOException {
        if (state != State.OPEN) {
            throw new IllegalStateException(out + ": already finished or closed");
        }
        if (next != entries.size()) {
            throw new IllegalStateException(out + ": only " + next + " of " + entries.size() + " declared tensors written; '"
                + entries.get(next).name() + "' is missing");
        }
        try {
            channel.force(true);
            channel.close();
            if (set != null) {
                state = State.STAGED;
                return;
            }
            publish();
        } finally {
            if (state == State.OPEN) {
                close();
            }
        }
        syncDirectory(out.toAbsolutePath().getParent());
    }

    /** The output path. */
    Path output() {
        return out;
    }

    boolean isStaged() {
        return state == State.STAGED;
    }

    /** Renames the complete, fsynced temp file over the output (one atomic step for this file). */
    void publish() throws IOException {
        Files.move(temp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        state = State.PUBLISHED;
        TempFiles.untrack(temp);
    }

    /**
     * Abandons the file unless {@link #finish()} completed: the temp file is deleted, the output untouched. A file
     * staged in an {@link OutputSet} stays staged: the set publishes or discards it.
     */
    @Override
    public void close() throws IOException {
        if (state == State.OPEN) {
            discard();
        }
    }

    /** Deletes the temp file of a file not yet published (open or staged); the output is not touched. */
    void discard() throws IOException {
        if (state == State.PUBLISHED || state == State.DISCARDED) {
            return;
        }
        state = State.DISCARDED;
        try {
            channel.close();
        } finally {
            Files.deleteIfExists(temp);
            TempFiles.untrack(temp);
        }
    }

    /**
     * Writes all of {@code b}, {@link #WRITE_CALL_BYTES} per call: larger writes into the page cache ran 3-9x slower
     * in the kernel's copy on the Linux 6.18 guests we measure on (bench/RESULTS.md, issue 17 "merge").
     */
    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        int end = b.limit();
        while (b.position() < end) {
            b.limit(Math.min(end, b.position() + WRITE_CALL_BYTES));
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    /** Makes the rename durable; directories cannot be opened for sync on every OS (Windows), where it is skipped. */
    static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // best effort: the data itself is already fsynced
        }
    }
}
