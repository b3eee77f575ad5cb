package dev.loraid.bench.merge;

import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.core.Floats;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

/**
 * The second anchor of {@code bench/run merge}: the same merge done the way upstream's merge script does it, with
 * PyTorch for the arithmetic. The base is walked tensor by tensor through its mapping (as safetensors' loader
 * does); an adapted weight is widened to fp32, gets {@code W += (alpha/r)·U@D} from PyTorch
 * ({@link TorchCpu#loraMerge}) and is written back as bf16; one tensor after the other, nothing overlapped. The
 * bf16 casts and the file I/O are ours, since DJL cannot hold bf16 tensors (pytorch-cpu-anchor.md, pitfall 2).
 */
final class TorchMerge {
    private TorchMerge() {
    }

    /** Merges {@code lora} (multiplier 1) into {@code base}, writing {@code out} in the base's dtypes. */
    static void run(TorchCpu torch, Path base, Path lora, Path out) throws IOException {
        try (SafetensorsFile b = SafetensorsFile.open(base); SafetensorsFile l = SafetensorsFile.open(lora); Arena arena = Arena.ofShared()) {
            List<SafetensorsWriter.Entry> entries = b.names().stream()
                    .map(n -> new SafetensorsWriter.Entry(n, b.info(n).dtype(), b.info(n).shape())).toList();
            long largest = b.names().stream().mapToLong(n -> b.info(n).shape().numel()).max().orElse(0);
            long largestFactor = l.names().stream().mapToLong(n -> l.info(n).shape().numel()).max().orElse(0);
            MemorySegment w = arena.allocate(largest * 4, 64);
            MemorySegment up = arena.allocate(largestFactor * 4, 64);
            MemorySegment down = arena.allocate(largestFactor * 4, 64);
            try (SafetensorsWriter writer = SafetensorsWriter.create(out, entries, b.metadata())) {
                for (String n : b.names()) {
                    Tensor t = b.tensor(n);
                    String module = n.endsWith(".weight") ? n.substring(0, n.length() - ".weight".length()) : null;
                    if (module == null || !l.names().contains(LoraKeys.key(module, LoraKeys.Part.DOWN))) {
                        writer.write(n, t);
                        continue;
                    }
                    Tensor d = l.tensor(LoraKeys.key(module, LoraKeys.Part.DOWN));
                    Tensor u = l.tensor(LoraKeys.key(module, LoraKeys.Part.UP));
                    int rank = (int) d.size(0);
                    float scale = Floats.read(l.tensor(LoraKeys.key(module, LoraKeys.Part.ALPHA)))[0] / rank;
                    int rows = (int) t.size(0);
                    int cols = (int) (t.numel() / rows);
                    Tensor wide = widen(t, w);
                    widen(u, up);
                    widen(d, down);
                    torch.loraMerge(w.asSlice(0, 4L * rows * cols), up.asSlice(0, 4L * rows * rank), down.asSlice(0, 4L * rank * cols),
                            rows, cols, rank, scale);
                    writer.write(n, wide);
                }
                writer.finish();
            }
        }
    }

    /** {@code t} as fp32 in {@code buffer}. */
    private static Tensor widen(Tensor t, MemorySegment buffer) {
        Shape s = t.shape();
        Tensor f = new Tensor(Storage.host(buffer.asSlice(0, s.numel() * 4)), DType.F32, s, s.contiguousStrides(), 0);
        f.backend().copy(t, f);
        return f;
    }
}
