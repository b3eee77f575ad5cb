package dev.loraid.core.lora;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reading and writing LoRA safetensors files. {@link Opened} gives zero-copy views (for tools that stream over
 * several files, such as EMA); {@link #read} copies a file onto the heap. {@link #write} always recomputes the
 * content hashes (REQ-META-4) and goes through the atomic writer, so a failure leaves no file behind.
 */
public final class LoraFiles {
    private LoraFiles() {
    }

    /** Reads {@code path} fully into heap memory (LoRA files are small next to a base model). */
    public static LoraFile read(Path path) {
        try (Opened o = new Opened()) {
            LoraFile view = o.open(path);
            TreeMap<String, Tensor> copies = new TreeMap<>();
            view.tensors().forEach((n, t) -> copies.put(n, copyBytes(t)));
            return new LoraFile(view.source(), copies, view.metadata());
        }
    }

    /** A byte-exact heap copy of a contiguous tensor, dtype kept. */
    static Tensor copyBytes(Tensor t) {
        Tensor c = Tensor.empty(t.dtype(), t.shape().toArray());
        long bytes = t.numel() * t.dtype().byteSize();
        MemorySegment.copy(t.storage().segment(), t.offset() * t.dtype().byteSize(), c.storage().segment(), 0, bytes);
        return c;
    }

    /** Writes {@code lora} to {@code out} with fresh {@code sshs_*} hashes; the output must not be one of the inputs. */
    public static void write(LoraFile lora, Path out) {
        Map<String, String> meta = LoraHashes.withHashes(lora.tensors(), lora.metadata());
        try {
            SafetensorsWriter.write(out, lora.tensors(), meta);
        } catch (IOException e) {
            throw new LoraidException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes every LoRA of {@code files} (output path → LoRA, each with fresh hashes) through {@code outputs}, which
     * declares exactly these paths, and commits it; the set is closed either way. On any failure no output path is
     * touched and no temp file remains (see {@link OutputSet} for the window during the renames).
     */
    public static void writeAll(Map<Path, LoraFile> files, OutputSet outputs) {
        try (outputs) {
            for (var e : files.entrySet()) {
                Path out = e.getKey();
                try {
                    outputs.write(out, e.getValue().tensors(), LoraHashes.withHashes(e.getValue().tensors(), e.getValue().metadata()));
                } catch (IOException ex) {
                    throw new LoraidException("cannot write " + out + ": " + ex.getMessage(), ex);
                }
            }
            outputs.commit();
        } catch (IOException e) {
            throw new LoraidException("cannot write the outputs " + files.keySet() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Refuses an input that is not a regular file before anything opens it: a FIFO or a device would block the
     * open or read forever, and a folder is not a file. {@code what} names the input in the message.
     */
    public static void checkInputFile(Path p, String what) {
        if (Files.isRegularFile(p)) {
            return;
        }
        throw new LoraidException(!Files.exists(p) ? what + " not found: " + p
                : Files.isDirectory(p) ? what + " " + p + " is a folder, not a file"
                : what + " " + p + " is not a regular file (a FIFO, socket or device?); give a .safetensors file");
    }

    /** Files opened as mapped views; every view dies when this closes. */
    public static final class Opened implements AutoCloseable {
        private final List<SafetensorsFile> files = new ArrayList<>();

        public LoraFile open(Path path) {
            checkInputFile(path, "LoRA file");
            try {
                SafetensorsFile f = SafetensorsFile.open(path);
                files.add(f);
                TreeMap<String, Tensor> tensors = new TreeMap<>();
                for (String n : f.names()) {
                    tensors.put(n, f.tensor(n));
                }
                return new LoraFile(path.toString(), tensors, f.metadata());
            } catch (IOException e) {
                throw new LoraidException("cannot read LoRA file " + path + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            files.forEach(SafetensorsFile::close);
            files.clear();
        }
    }
}
