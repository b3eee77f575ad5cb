package dev.loraid.tensor.pth;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.TensorInfo;
import dev.loraid.tensor.safetensors.TensorSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * A PyTorch {@code torch.save} file ({@code .pth}, {@code .pt}) holding a state dict, read without Python and
 * without running anything from the file: the pickle goes through a restricted unpickler ({@link Unpickler}) that
 * knows only dicts, lists, tuples, scalars, {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}
 * (and {@code _rebuild_parameter}) and the {@code torch.*Storage} types ({@link TorchGlobal}); any other global is
 * refused by name. Both layouts are read: zip (torch ≥ 1.6, {@link ZipCheckpoint}) and legacy ({@link LegacyCheckpoint}).
 *
 * <p>The file is memory-mapped; tensors are zero-copy views of it with the storage offset and strides torch saved
 * (several tensors may share one storage; a view need not be contiguous). Every storage's byte length is checked
 * against {@code numel × element size} and every view against its storage when the file is opened. Lifetime as for
 * {@link dev.loraid.tensor.safetensors.SafetensorsFile}: views die with {@link #close()} and then throw.
 *
 * <pre>{@code
 * try (TensorSource vae = TensorSource.open(Path.of("Wan2.1_VAE.pth"))) {   // or PthFile.open(...)
 *     Tensor w = vae.tensor("encoder.conv1.weight");  // [96, 3, 3, 3, 3] F32, a view of the mapping
 * }
 * }</pre>
 */
public final class PthFile implements TensorSource {
    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final StateDict state;
    private final List<String> names;
    private final Map<String, TensorInfo> infos;
    private volatile boolean closed;

    private PthFile(Path path, Arena arena, MemorySegment file, StateDict state) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.state = state;
        this.names = List.copyOf(state.tensors().keySet());
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        for (Map.Entry<String, TensorRef> e : state.tensors().entrySet()) {
            TensorRef t = e.getValue();
            Shape shape = Shape.of(t.size());
            long esize = t.storage().dtype().byteSize();
            long begin = state.storages().get(t.storage().key()).address() - file.address() + t.offset() * esize;
            m.put(e.getKey(), new TensorInfo(e.getKey(), t.storage().dtype(), shape, begin, begin + shape.numel() * esize));
        }
        this.infos = Collections.unmodifiableMap(m);
    }

    /**
     * Opens, reads and checks {@code path}. Throws {@link NoSuchFileException} if it does not exist, and
     * {@link PthFormatException} naming the file and what is wrong if it is malformed, truncated or hostile.
     */
    public static PthFile open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new IOException(path + ": is a directory, not a .pth file");
        }
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such file");
        }
        if (!Files.isRegularFile(path)) {
            throw new IOException(path + ": not a regular file (a FIFO, socket or device?); give a .pth file");
        }
        String source = path.toString();
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 22) {
                throw new PthFormatException(source, "is " + size + " bytes, too short for a torch.save file");
            }
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            StateDict state;
            if (ZipDirectory.isZip(file)) {
                state = ZipCheckpoint.read(file, source);
            } else if (LegacyCheckpoint.isLegacy(file)) {
                state = LegacyCheckpoint.read(file, source);
            } else {
                throw new PthFormatException(source, "is neither a zip archive nor a pickle: not a torch.save file");
            }
            return new PthFile(path, arena, file, state);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return infos.containsKey(name);
    }

    /** Dtype and shape; {@code begin}/{@code end} are the file offsets of the first element and of numel × element size past it. */
    @Override
    public TensorInfo info(String name) {
        TensorInfo t = infos.get(name);
        if (t == null) {
            throw new NoSuchElementException(path + ": no tensor named '" + name + "'");
        }
        return t;
    }

    /** A CPU view of the mapped bytes (no copy), with the storage offset and strides from the file. */
    @Override
    public Tensor tensor(String name) {
        info(name);
        if (closed) {
            throw new IllegalStateException(path + ": closed; cannot read tensor '" + name + "'");
        }
        TensorRef t = state.tensors().get(name);
        Storage storage = new Storage(Device.CPU, state.storages().get(t.storage().key()), this);
        return new Tensor(storage, t.storage().dtype(), Shape.of(t.size()), t.stride(), t.offset());
    }

    /** A {@code .pth} file has no string metadata: always empty. */
    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
    }

    @Override
    public String toString() {
        return "PthFile[" + path + ", " + names.size() + " tensors]";
    }
}
