package dev.loraid.bench.merge;

import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MiniFloats;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.Parallel;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A synthetic BF16 checkpoint with the Wan 2.1 T2V-1.3B DiT's names and shapes (dim 1536, FFN 8960, 30 blocks,
 * 12 heads; about 1.42 B parameters, 2.8 GB), and a rank-r LoRA on all its block Linears. Values are pseudo-random
 * (a counter hash per element), generated tensor by tensor: nothing of the file is held in memory.
 */
final class SyntheticWan13B {
    static final int DIM = 1536;
    static final int FFN = 8960;
    static final int BLOCKS = 30;
    static final List<String> LINEARS = List.of("self_attn.q", "self_attn.k", "self_attn.v", "self_attn.o",
            "cross_attn.q", "cross_attn.k", "cross_attn.v", "cross_attn.o", "ffn.0", "ffn.2");
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SyntheticWan13B() {
    }

    /** Every tensor of the DiT, sorted by name (the order the file is written in). */
    static Map<String, Shape> shapes() {
        Map<String, Shape> s = new TreeMap<>();
        s.put("patch_embedding.weight", Shape.of(DIM, 16, 1, 2, 2));
        s.put("patch_embedding.bias", Shape.of(DIM));
        s.put("text_embedding.0.weight", Shape.of(DIM, 4096));
        s.put("text_embedding.0.bias", Shape.of(DIM));
        s.put("text_embedding.2.weight", Shape.of(DIM, DIM));
        s.put("text_embedding.2.bias", Shape.of(DIM));
        s.put("time_embedding.0.weight", Shape.of(DIM, 256));
        s.put("time_embedding.0.bias", Shape.of(DIM));
        s.put("time_embedding.2.weight", Shape.of(DIM, DIM));
        s.put("time_embedding.2.bias", Shape.of(DIM));
        s.put("time_projection.1.weight", Shape.of(6 * DIM, DIM));
        s.put("time_projection.1.bias", Shape.of(6 * DIM));
        s.put("head.head.weight", Shape.of(64, DIM));
        s.put("head.head.bias", Shape.of(64));
        s.put("head.modulation", Shape.of(1, 2, DIM));
        for (int b = 0; b < BLOCKS; b++) {
            String p = "blocks." + b + ".";
            for (String l : LINEARS) {
                long[] oi = linear(l);
                s.put(p + l + ".weight", Shape.of(oi));
                s.put(p + l + ".bias", Shape.of(oi[0]));
            }
            for (String n : List.of("self_attn.norm_q", "self_attn.norm_k", "cross_attn.norm_q", "cross_attn.norm_k", "norm3")) {
                s.put(p + n + ".weight", Shape.of(DIM));
            }
            s.put(p + "norm3.bias", Shape.of(DIM));
            s.put(p + "modulation", Shape.of(1, 6, DIM));
        }
        return s;
    }

    /** [out, in] of a block Linear. */
    static long[] linear(String name) {
        return switch (name) {
            case "ffn.0" -> new long[] {FFN, DIM};
            case "ffn.2" -> new long[] {DIM, FFN};
            default -> new long[] {DIM, DIM};
        };
    }

    static long byteSize() {
        return shapes().values().stream().mapToLong(s -> s.numel() * 2).sum();
    }

    static void writeBase(Path out) throws IOException {
        Map<String, Shape> shapes = shapes();
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        shapes.forEach((n, s) -> entries.add(new SafetensorsWriter.Entry(n, DType.BF16, s)));
        long largest = shapes.values().stream().mapToLong(Shape::numel).max().orElseThrow();
        try (Arena arena = Arena.ofShared();
             SafetensorsWriter w = SafetensorsWriter.create(out, entries, Map.of("synthetic", "wan2.1 t2v-1.3B shapes, bf16"))) {
            MemorySegment buf = arena.allocate(largest * 2, 64);
            long seed = 1;
            for (var e : shapes.entrySet()) {
                w.write(e.getKey(), fill(buf, e.getValue(), seed++, 0.05f));
            }
            w.finish();
        }
    }

    static void writeLora(Path out, int rank) {
        TreeMap<String, Tensor> t = new TreeMap<>();
        long seed = 1000;
        for (int b = 0; b < BLOCKS; b++) {
            for (String l : LINEARS) {
                long[] oi = linear(l);
                String path = "blocks." + b + "." + l;
                t.put(LoraKeys.key(path, LoraKeys.Part.DOWN), fill(alloc(rank * oi[1]), Shape.of(rank, oi[1]), seed++, (float) (1 / Math.sqrt(oi[1]))));
                t.put(LoraKeys.key(path, LoraKeys.Part.UP), fill(alloc(oi[0] * rank), Shape.of(oi[0], rank), seed++, 0.01f));
                t.put(LoraKeys.key(path, LoraKeys.Part.ALPHA), Tensor.scalar(rank / 2f));
            }
        }
        Map<String, String> meta = new LinkedHashMap<>(Map.of("ss_network_module", "networks.lora_wan",
                "ss_network_dim", Integer.toString(rank), "ss_network_alpha", Float.toString(rank / 2f)));
        LoraFiles.write(new LoraFile(out.toString(), t, meta), out);
    }

    private static MemorySegment alloc(long elements) {
        return Arena.ofAuto().allocate(elements * 2, 64);
    }

    /** A BF16 tensor over {@code buf} with values uniform in ±{@code scale}, element i from a hash of (seed, i). */
    static Tensor fill(MemorySegment buf, Shape shape, long seed, float scale) {
        long n = shape.numel();
        Parallel.forRange(n, 4, (from, to) -> {
            for (long i = from; i < to; i++) {
                long z = (seed * 0x9E3779B97F4A7C15L) ^ (i * 0xBF58476D1CE4E5B9L);
                z = (z ^ (z >>> 31)) * 0x94D049BB133111EBL;
                float u = ((z >>> 40) / (float) (1 << 24)) * 2 - 1;
                buf.set(BF16, 2 * i, MiniFloats.floatToBf16(u * scale));
            }
        });
        return new Tensor(Storage.host(buf.asSlice(0, n * 2)), DType.BF16, shape, shape.contiguousStrides(), 0);
    }
}
