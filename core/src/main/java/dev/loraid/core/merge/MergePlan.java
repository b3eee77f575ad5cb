package dev.loraid.core.merge;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraModule;
import dev.loraid.core.lora.LoraPairing;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
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
import java.util.HashMap;
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
     * copied as they are, adapted ones get {@code Σ m·(alpha/r)·U@D} in fp32 and are cast once (REQ-MERGE-3). Reading
     * and writing run on their own threads around the merge ({@link MergePipeline}). The file is staged, not in
     * place: it appears when the caller commits the set.
     */
    public void write(OutputSet outputs, Reporter reporter) {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        long total = 0;
        long outBytes = 0;
        long blockFloats = 0;
        boolean ownMemory = StreamingTensorReader.readsIntoMemory(base);
        Map<String, Update> inPlace = new HashMap<>(); // weight → its one update merged where it was read
        for (String n : base.names()) {
            TensorInfo info = base.info(n);
            DType out = saveDtype != null && info.dtype().isFloatingPoint() ? saveDtype : info.dtype();
            SafetensorsWriter.Entry e = new SafetensorsWriter.Entry(n, out, info.shape());
            entries.add(e);
            total += info.byteSize();
            List<Update> ups = updates.get(n);
            Update single = ups == null ? null : inPlaceUpdate(ownMemory, info.dtype(), out, ups);
            if (single != null) {
                inPlace.put(n, single);
            } else if (ups != null) { // merged through an output buffer
                outBytes = Math.max(outBytes, e.byteSize());
                blockFloats = Math.max(blockFloats, blockRows(info.shape()) * columns(info.shape()));
            }
        }
        reporter.info("writing " + outputName + " " + output + " ...");
        long done = 0;
        try (SafetensorsWriter w = outputs.create(output, entries, metadata);
                StreamingTensorReader reader = new StreamingTensorReader(base);
                MergePipeline pipe = new MergePipeline(reader, base.names(), outBytes, w);
                Arena arena = Arena.ofShared()) { // GEMM workers read the scratch block
            MemorySegment scratch = blockFloats == 0 ? MemorySegment.NULL : arena.allocate(blockFloats * 4, 64);
            for (SafetensorsWriter.Entry e : entries) {
                MergePipeline.Read r = pipe.next();
                List<Update> ups = updates.get(e.name());
                Update single = inPlace.get(e.name());
                if (ups == null) {
                    pipe.write(r);
                } else if (single != null) {
                    addInPlace(r.tensor(), single);
                    pipe.write(r);
                } else {
                    MemorySegment buffer = pipe.outputBuffer();
                    Tensor merged = merged(r.tensor(), ups, over(buffer, e.dtype(), e.shape()), scratch);
                    pipe.release(r);
                    pipe.write(e.name(), merged, buffer);
                }
                done += base.info(e.name()).byteSize();
                reporter.progress("merge", done, total);
            }
            pipe.finish();
            w.finish();
        } catch (IOException e) {
            throw new LoraidException("cannot write " + outputName + " " + output + ": " + e.getMessage(), e);
        }
    }

    /** fp32 elements per block of rows merged at a time: 4 MiB, which stays in cache from widening to cast. */
    private static final long BLOCK_FLOATS = 1 << 20;

    /** Elements per row of a weight seen as the [out, in·kh·kw] matrix of {@link LoraDelta}. */
    private static long columns(Shape s) {
        return s.numel() / Math.max(1, s.dim(0));
    }

    /** Rows per block of {@link #BLOCK_FLOATS} (at least one row). */
    private static long blockRows(Shape s) {
        return Math.min(s.dim(0), Math.max(1, BLOCK_FLOATS / Math.max(1, columns(s))));
    }

    private static Tensor over(MemorySegment buffer, DType dtype, Shape shape) {
        return new Tensor(Storage.host(buffer.asSlice(0, shape.numel() * dtype.byteSize())), dtype, shape,
                shape.contiguousStrides(), 0);
    }

    /**
     * {@code out} = the base weight in fp32 plus every update in order, cast once to {@code out}'s dtype
     * round-to-nearest-even (REQ-MERGE-3). Done a block of rows at a time through {@code scratch} (fp32 outputs in
     * place), so that the widening, the products and the cast of a block find it in cache; each element gets the
     * same arithmetic as in a whole-tensor update ({@link LoraDelta#addRows}), so the bytes are the same.
     */
    private static Tensor merged(Tensor base, List<Update> updates, Tensor out, MemorySegment scratch) {
        long rows = base.shape().dim(0);
        long cols = columns(base.shape());
        Tensor src = base.view(rows, cols);
        Tensor dst = out.view(rows, cols);
        // fp32 copies of the factors are released here, not whenever the GC gets to them
        try (MemoryScope factors = MemoryScope.open()) {
            List<LoraDelta.Factors> fp32 = new ArrayList<>();
            for (Update u : updates) {
                fp32.add(u.multiplier() == 0 ? null : LoraDelta.Factors.of(u.module(), cols));
            }
            boolean f32Out = out.dtype() == DType.F32; // then the block is the output's own rows
            long step = blockRows(base.shape());
            for (long r0 = 0; r0 < rows; r0 += step) {
                long n = Math.min(step, rows - r0);
                Tensor block = f32Out ? dst.narrow(0, r0, n) : over(scratch, DType.F32, Shape.of(n, cols));
                block.backend().copy(src.narrow(0, r0, n), block);
                for (int i = 0; i < updates.size(); i++) {
                    Update u = updates.get(i);
                    if (fp32.get(i) != null) {
                        LoraDelta.addRows(block, r0, fp32.get(i), u.multiplier() * u.module().scale());
                    }
                }
                if (!f32Out) {
                    block.backend().copy(block, dst.narrow(0, r0, n));
                }
            }
        }
        return out;
    }

    /**
     * The update to merge where the reader put the weight ({@link #addInPlace}): the one update with a non-zero
     * multiplier of a bf16 weight read into memory of the pass ({@code writable}, {@link
     * StreamingTensorReader#readsIntoMemory}) and written as bf16; null when the weight takes {@link #merged}.
     */
    private static Update inPlaceUpdate(boolean writable, DType in, DType out, List<Update> ups) {
        if (!writable || in != DType.BF16 || out != DType.BF16) {
            return null;
        }
        List<Update> active = ups.stream().filter(u -> u.multiplier() != 0).toList();
        return active.size() == 1 ? active.getFirst() : null;
    }

    /**
     * {@code weight += m·(alpha/r)·U@D} on a bf16 weight as read: the GEMM widens, adds and rounds each element once
     * ({@link dev.loraid.tensor.Backend#matmul} on a bf16 output), which gives the bytes of {@link #merged}'s fp32
     * path with neither a copy nor an output buffer. One GEMM over the whole weight packs D once, where blocks of
     * rows (a wide weight's are ~100 rows) packed it per block: 1.6 -> 1.25 s of merging per 1.3B file (issue 17).
     * A rank above the GEMM's K slice (256 floats on AVX-512) makes the GEMM go through an fp32 temporary of the
     * weight's size instead, with the same bytes.
     */
    private static void addInPlace(Tensor weight, Update u) {
        long rows = weight.shape().dim(0);
        long cols = columns(weight.shape());
        // the fp32 copies of the factors are released here, not whenever the GC gets to them
        try (MemoryScope factors = MemoryScope.open()) {
            LoraDelta.addRows(weight.view(rows, cols), 0, LoraDelta.Factors.of(u.module(), cols), u.multiplier() * u.module().scale());
        }
    }

    @Override
    public void close() {
        try (loras) {
            base.close();
        }
    }
}
