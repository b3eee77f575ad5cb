package dev.loraid.core.merge;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraModule;
import dev.loraid.core.lora.LoraPairing;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.tensor.safetensors.TensorInfo;
import dev.loraid.tensor.safetensors.TensorSource;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One checkpoint's merge, validated and ready to stream ({@link LoraMerger#plan}): the base checkpoint and the LoRA
 * files stay open, every update is scheduled and checked against the base's shapes, the output metadata is computed.
 * Nothing of the base's tensor data has been read yet; {@link #write} is the long part. A run with several outputs
 * (both Wan 2.2 experts) plans all of them first, so a bad input of the last one fails before any of them is written.
 */
public final class MergePlan implements AutoCloseable {
    /** One module update scheduled on a base weight. */
    record Update(LoraModule module, double multiplier, String file) {
    }

    private final TensorSource base;
    private final LoraFiles.Opened loras;
    private final Map<String, List<Update>> updates;
    private final List<LoraPairing.Applied> applied;
    private final Map<String, String> metadata;
    private final DType saveDtype;
    private final String outputName;
    private final Path output;

    MergePlan(TensorSource base, LoraFiles.Opened loras, Map<String, List<Update>> updates, List<LoraPairing.Applied> applied,
            Map<String, String> metadata, DType saveDtype, String outputName, Path output) {
        this.applied = List.copyOf(applied);
        this.base = base;
        this.loras = loras;
        this.updates = updates;
        this.metadata = metadata;
        this.saveDtype = saveDtype;
        this.outputName = outputName;
        this.output = output;
    }

    /** The LoRA files applied, in application order, with their LORAID, blocks and multiplier. */
    public List<LoraPairing.Applied> applied() {
        return applied;
    }

    /** How many base weights get at least one LoRA update. */
    public int adaptedWeights() {
        return updates.size();
    }

    /** The output file (declared in the {@link OutputSet} under {@link #outputName()}). */
    public Path output() {
        return output;
    }

    /** The name (flag) the output was given under, e.g. {@code --save_merged_model_high_noise}. */
    public String outputName() {
        return outputName;
    }

    /**
     * Streams the merged checkpoint into {@code outputs}, which must declare {@link #output()}: base tensors are
     * copied one at a time, adapted ones get {@code Σ m·(alpha/r)·U@D} in fp32 and are cast once (REQ-MERGE-3). The
     * file is staged, not in place: it appears when the caller commits the set.
     */
    public void write(OutputSet outputs, Reporter reporter) {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        long total = 0;
        for (String n : base.names()) {
            TensorInfo info = base.info(n);
            DType out = saveDtype != null && info.dtype().isFloatingPoint() ? saveDtype : info.dtype();
            entries.add(new SafetensorsWriter.Entry(n, out, info.shape()));
            total += info.byteSize();
        }
        reporter.info("writing " + outputName + " " + output + " ...");
        long done = 0;
        try (SafetensorsWriter w = outputs.create(output, entries, metadata);
                StreamingTensorReader reader = new StreamingTensorReader(base); Arena scratch = Arena.ofShared()) {
            long largestAdapted = updates.keySet().stream().mapToLong(n -> base.info(n).shape().numel()).max().orElse(0);
            MemorySegment fp32 = largestAdapted == 0 ? MemorySegment.NULL : scratch.allocate(largestAdapted * 4, 64);
            for (SafetensorsWriter.Entry e : entries) {
                Tensor t = reader.read(e.name());
                List<Update> ups = updates.get(e.name());
                w.write(e.name(), ups == null ? t : merged(t, ups, fp32));
                done += base.info(e.name()).byteSize();
                reporter.progress("merge", done, total);
            }
            w.finish();
        } catch (IOException e) {
            throw new LoraidException("cannot write " + outputName + " " + output + ": " + e.getMessage(), e);
        }
    }

    /**
     * The base weight as fp32 in {@code scratch} plus every update in order; the writer casts it once to the output
     * dtype, round-to-nearest-even (REQ-MERGE-3).
     */
    private static Tensor merged(Tensor base, List<Update> updates, MemorySegment scratch) {
        Tensor w = new Tensor(Storage.host(scratch.asSlice(0, base.numel() * 4)), DType.F32, base.shape(),
                base.shape().contiguousStrides(), 0);
        w.backend().copy(base, w);
        // fp32 copies of the factors are released here, not whenever the GC gets to them
        try (MemoryScope factors = MemoryScope.open()) {
            for (Update u : updates) {
                if (u.multiplier() != 0) {
                    LoraDelta.addTo(w, u.module(), u.multiplier() * u.module().scale());
                }
            }
        }
        return w;
    }

    @Override
    public void close() {
        try (loras) {
            base.close();
        }
    }
}
