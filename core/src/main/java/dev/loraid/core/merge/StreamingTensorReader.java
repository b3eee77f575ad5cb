package dev.loraid.core.merge;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.ShardedCheckpoint;
import dev.loraid.tensor.safetensors.TensorInfo;
import dev.loraid.tensor.safetensors.TensorSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the tensors of a checkpoint one at a time with positional file reads into one reused buffer, instead of
 * touching its memory mapping: a merge pass over a 28 GB base then holds about one tensor (design.md "Memory"),
 * where walking the mapping would leave every page it read resident in the process. A tensor returned by
 * {@link #read} is valid until the next call.
 */
final class StreamingTensorReader implements AutoCloseable {
    private static final int READ_CHUNK = 1 << 30;

    private final TensorSource source;
    private final Map<String, SafetensorsFile> fileOf = new HashMap<>();
    private final Map<SafetensorsFile, FileChannel> channels = new HashMap<>();
    private final Arena arena = Arena.ofShared(); // kernels read the buffer from the CPU pool's threads
    private final MemorySegment buffer;

    StreamingTensorReader(TensorSource source) {
        this.source = source;
        List<SafetensorsFile> files = switch (source) {
            case SafetensorsFile f -> List.of(f);
            case ShardedCheckpoint s -> s.shards();
            default -> List.of();
        };
        long largest = 0;
        for (SafetensorsFile f : files) {
            for (String n : f.names()) {
                fileOf.put(n, f);
                largest = Math.max(largest, f.info(n).byteSize());
            }
        }
        // one buffer of the largest tensor's size, for the whole pass
        buffer = largest == 0 ? MemorySegment.NULL : arena.allocate(largest, 64);
    }

    /** The tensor {@code name} as a contiguous CPU tensor in a buffer reused by the next call. */
    Tensor read(String name) {
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
        Storage storage = new Storage(Device.CPU, buffer.asSlice(0, bytes), this);
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
        arena.close();
    }
}
