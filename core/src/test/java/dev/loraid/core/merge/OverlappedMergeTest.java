package dev.loraid.core.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraFixtures;
import dev.loraid.core.LoraidException;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.core.lora.LoraModule;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.tensor.testing.Golden;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The merge with its reader and writer threads ({@link MergePipeline}) and row-block merging against a sequential
 * reference (the whole-tensor fp32 update of {@link LoraDelta#addTo}, then one cast, as the merge was written before
 * issue 17), byte for byte; and failures on either thread.
 */
class OverlappedMergeTest {
    @TempDir
    Path dir;
    Path base;
    List<Path> loras;
    final List<Double> multipliers = List.of(1.0, -0.6, 0.35);

    /** Odd shapes, bf16 / f32 / f16 weights, a conv weight, weights over two row blocks, untouched tensors. */
    private static Map<String, Tensor> baseTensors() {
        Random rng = new Random(17);
        TreeMap<String, Tensor> t = new TreeMap<>();
        t.put("patch_embedding.weight", LoraFixtures.random(rng, DType.BF16, 11, 3, 1, 2, 2));
        t.put("blocks.0.self_attn.q.weight", LoraFixtures.random(rng, DType.BF16, 37, 23));
        t.put("blocks.0.self_attn.q.bias", LoraFixtures.random(rng, DType.BF16, 37));
        t.put("blocks.0.self_attn.k.weight", LoraFixtures.random(rng, DType.F32, 29, 41));
        t.put("blocks.0.ffn.0.weight", LoraFixtures.random(rng, DType.BF16, 1031, 1100)); // > 1M floats: two row blocks
        t.put("blocks.0.norm3.weight", LoraFixtures.random(rng, DType.F32, 5));
        t.put("blocks.1.self_attn.q.weight", LoraFixtures.random(rng, DType.F16, 13, 7));
        // one update only: merged in the bf16 output's own rows (no fp32 scratch) when the output is bf16
        t.put("blocks.1.ffn.0.weight", LoraFixtures.random(rng, DType.BF16, 1031, 1100));
        t.put("blocks.1.modulation", LoraFixtures.random(rng, DType.BF16, 1, 6, 3));
        return t;
    }

    /** module → rank, per LoRA file; the files overlap on several weights, in mixed factor dtypes. */
    private static final List<Map<String, Integer>> MODULES = List.of(
            Map.of("blocks.0.self_attn.q", 3, "blocks.0.ffn.0", 5, "patch_embedding", 2),
            Map.of("blocks.0.self_attn.q", 4, "blocks.0.self_attn.k", 2, "blocks.1.self_attn.q", 1, "blocks.1.ffn.0", 6),
            Map.of("blocks.0.ffn.0", 7, "blocks.0.self_attn.k", 3));

    @BeforeEach
    void fixtures() throws IOException {
        Map<String, Tensor> b = baseTensors();
        base = dir.resolve("base.safetensors");
        SafetensorsWriter.write(base, b, Map.of("fixture", "odd shapes"));
        loras = new ArrayList<>();
        for (int f = 0; f < MODULES.size(); f++) {
            Random rng = new Random(100 + f);
            DType factors = f == 1 ? DType.BF16 : DType.F32;
            TreeMap<String, Tensor> t = new TreeMap<>();
            for (Map.Entry<String, Integer> m : new TreeMap<>(MODULES.get(f)).entrySet()) {
                long[] w = b.get(m.getKey() + ".weight").shape().toArray();
                int r = m.getValue();
                long[] down = w.clone();
                down[0] = r;
                long[] up = w.length == 2 ? new long[] {w[0], r} : new long[] {w[0], r, 1, 1};
                t.put(LoraKeys.key(m.getKey(), LoraKeys.Part.DOWN), LoraFixtures.random(rng, factors, down));
                t.put(LoraKeys.key(m.getKey(), LoraKeys.Part.UP), LoraFixtures.random(rng, factors, up));
                t.put(LoraKeys.key(m.getKey(), LoraKeys.Part.ALPHA), Tensor.scalar(r * 0.75f + f));
            }
            Path p = dir.resolve("lora" + f + ".safetensors");
            LoraFiles.write(new LoraFile(p.toString(), t, Map.of()), p);
            loras.add(p);
        }
    }

    private MergeRequest request(List<Path> files, List<Double> mult, DType saveDtype, Path out) {
        return new MergeRequest(base, files, Optional.empty(), mult, null, true, List.of(), List.of(), saveDtype, out);
    }

    @Test
    void overlappedMergeWritesTheBytesOfTheSequentialReference() throws IOException {
        for (DType save : new DType[] {null, DType.BF16, DType.F32}) {
            Path out = dir.resolve("merged-" + save + ".safetensors");
            LoraMerger.merge(request(loras, multipliers, save, out), new CollectingReporter());
            Map<String, Tensor> expected = sequentialReference(save);
            try (SafetensorsFile o = SafetensorsFile.open(out)) {
                assertEquals(List.copyOf(expected.keySet()), o.names());
                for (Map.Entry<String, Tensor> e : expected.entrySet()) {
                    Golden.assertSameBytes(e.getKey() + " (save dtype " + save + ")", e.getValue(), o.tensor(e.getKey()));
                }
            }
        }
    }

    /** Whole tensors: fp32 copy, every update in file order through {@link LoraDelta#addTo}, one cast. */
    private Map<String, Tensor> sequentialReference(DType save) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile b = SafetensorsFile.open(base)) {
            for (String n : b.names()) {
                Tensor t = b.tensor(n);
                DType dtype = save != null ? save : t.dtype();
                Tensor w = Tensor.empty(DType.F32, t.shape().toArray());
                w.backend().copy(t, w);
                boolean adapted = false;
                for (int f = 0; f < loras.size(); f++) {
                    String module = n.substring(0, n.length() - ".weight".length());
                    if (!n.endsWith(".weight") || !MODULES.get(f).containsKey(module)) {
                        continue;
                    }
                    LoraFile l = LoraFiles.read(loras.get(f));
                    Tensor down = l.tensors().get(LoraKeys.key(module, LoraKeys.Part.DOWN));
                    Tensor up = l.tensors().get(LoraKeys.key(module, LoraKeys.Part.UP));
                    double alpha = l.tensors().get(LoraKeys.key(module, LoraKeys.Part.ALPHA)).toFloatArray()[0];
                    LoraModule m = new LoraModule(LoraKeys.loraName(module), down, up, alpha, true);
                    LoraDelta.addTo(w, m, multipliers.get(f) * m.scale());
                    adapted = true;
                }
                Tensor cast = (adapted ? w : t).to(dtype);
                out.put(n, cast == t ? t.copy() : cast); // not a view of the mapping closed below
            }
        }
        return out;
    }

    @Test
    void readerFailureNamesTheTensorAndLeavesNothing() throws IOException {
        Path out = dir.resolve("out.safetensors");
        List<Path> before = filesIn(dir);
        CollectingReporter reporter = new CollectingReporter();
        try (MergePlan plan = LoraMerger.plan(request(loras, multipliers, null, out), "--out", reporter);
                OutputSet set = new OutputSet(Map.of("--out", out))) {
            // the base shrinks under the merge after validation: the reader thread hits its end inside a tensor that
            // comes after adapted and untouched ones were merged and written
            String cut = "blocks.1.self_attn.q.weight";
            long end;
            try (SafetensorsFile b = SafetensorsFile.open(base)) {
                end = b.header().dataStart() + b.info(cut).begin() + 2;
            }
            try (RandomAccessFile f = new RandomAccessFile(base.toFile(), "rw")) {
                f.setLength(end);
            }
            RuntimeException e = assertThrows(RuntimeException.class, () -> plan.write(set, reporter));
            assertTrue(e.getMessage().contains("cannot read tensor '" + cut + "' of " + base), e.getMessage());
            assertTrue(e.getMessage().contains("file ends inside tensor"), e.getMessage());
        }
        assertEquals(before, filesIn(dir));
        assertNoMergeThreads();
    }

    @Test
    void writerFailureNamesTheTensorAndLeavesNothing() throws IOException {
        // an update of 1e40 overflows the first adapted weight to +Inf, which the writer thread refuses
        Path huge = dir.resolve("huge.safetensors");
        TreeMap<String, Tensor> t = new TreeMap<>();
        String module = "blocks.0.ffn.0";
        t.put(LoraKeys.key(module, LoraKeys.Part.DOWN), LoraFixtures.constant(1e20f, 1, 1100));
        t.put(LoraKeys.key(module, LoraKeys.Part.UP), LoraFixtures.constant(1e20f, 1031, 1));
        t.put(LoraKeys.key(module, LoraKeys.Part.ALPHA), Tensor.scalar(1f));
        LoraFiles.write(new LoraFile(huge.toString(), t, Map.of()), huge);
        Path out = dir.resolve("out.safetensors");
        List<Path> before = filesIn(dir);
        LoraidException e = assertThrows(LoraidException.class,
                () -> LoraMerger.merge(request(List.of(huge), List.of(1.0), null, out), new CollectingReporter()));
        assertTrue(e.getMessage().contains("cannot write " + LoraMerger.OUTPUT + " " + out), e.getMessage());
        assertTrue(e.getMessage().contains("tensor 'blocks.0.ffn.0.weight' [1031, 1100] BF16 holds Inf at flat index 0"),
                e.getMessage());
        assertEquals(before, filesIn(dir));
        assertNoMergeThreads();
    }

    private static void assertNoMergeThreads() {
        List<String> alive = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(n -> n.startsWith("loraid-merge-")).toList();
        assertEquals(List.of(), alive, "merge threads still alive after the merge returned");
    }

    private static List<Path> filesIn(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.sorted().toList();
        }
    }
}
