package dev.loraid.core.merge;

import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.ShardedCheckpoint;
import dev.loraid.tensor.safetensors.TensorInfo;
import dev.loraid.tensor.safetensors.TensorSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the tensors of a checkpoint one at a time with positional file reads into a buffer the caller supplies,
 * instead of touching its memory mapping: a merge pass over a 28 GB base then holds a few tensors (design.md
 * "Memory"), where walking the mapping would leave every page it read resident in the process. One thread at a
 * time may read ({@link MergePipeline}'s reader thread).
 */
final class StreamingTensorReader implements AutoCloseable {
    private static final int READ_CHUNK = 1 << 30;

    private final TensorSource source;
    private final Map<String, SafetensorsFile> fileOf = new HashMap<>();
    private final Map<SafetensorsFile, FileChannel> channels = new HashMap<>();
    private final long largest;

    StreamingTensorReader(TensorSource source) {
        this.source = source;
        List<SafetensorsFile> files = files(source);
        long most = 0;
        for (SafetensorsFile f : files) {
            for (String n : f.names()) {
                fileOf.put(n, f);
                most = Math.max(most, f.info(n).byteSize());
            }
        }
        largest = most;
    }

    private static List<SafetensorsFile> files(TensorSource source) {
        return switch (source) {
            case SafetensorsFile f -> List.of(f);
            case ShardedCheckpoint s -> s.shards();
            default -> List.of();
        };
    }

    /** Whether {@link #read} puts {@code source}'s tensors in memory of the caller's (else: the source's own views). */
    static boolean readsIntoMemory(TensorSource source) {
        return !files(source).isEmpty();
    }

    /** The bytes of tensor {@code name}, or −1 for a source of an unknown kind (it hands out its own views). */
    long byteSize(String name) {
        SafetensorsFile f = fileOf.get(name);
        return f == null ? -1 : f.info(name).byteSize();
    }

    /** The bytes of the largest tensor: a buffer this size holds any of them. */
    long largestBytes() {
        return largest;
    }

    /**
     * The tensor {@code name} as a contiguous CPU tensor over {@code buffer} (at least its byte size); a source of
     * an unknown kind gives its own (mapped) view instead.
     */
    Tensor read(String name, MemorySegment buffer) {
        SafetensorsFile f = fileOf.get(name);
        if (f == null) {
            return source.tensor(name); // an unknown kind of source: its own (mapped) view
        }
        TensorInfo info = f.info(name);
        long bytes = info.byteSize();
        try {
            FileChannel ch = channels.get(f);
            if (ch == null) {
                ch = FileChannel.open(f.path(), StandardOpenOption.READ);
                channels.put(f, ch);
            }
            long pos = f.header().dataStart() + info.begin();
            for (long done = 0; done < bytes; ) {
                ByteBuffer dst = buffer.asSlice(done, Math.min(READ_CHUNK, bytes - done)).asByteBuffer();
                while (dst.hasRemaining()) {
                    int n = ch.read(dst, pos + done + dst.position());
                    if (n < 0) {
                        throw new IOException(f.path() + ": file ends inside tensor '" + name + "'");
                    }
                }
                done += dst.capacity();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tensor '" + name + "' of " + f.path() + ": " + e.getMessage(), e);
        }
        Storage storage = Storage.host(buffer.asSlice(0, bytes));
        return new Tensor(storage, info.dtype(), info.shape(), info.shape().contiguousStrides(), 0);
    }

    @Override
    public void close() {
        for (FileChannel ch : channels.values()) {
            try {
                ch.close();
            } catch (IOException e) {
                // read-only channel: nothing to lose
            }
        }
    }
}
