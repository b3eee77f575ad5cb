package dev.loraid.core.merge;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LycorisMerge;
import dev.loraid.core.lora.WeightUpdate;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.tensor.safetensors.TensorInfo;
import dev.loraid.tensor.safetensors.TensorSource;
import dev.loraid.wan.WanKeys;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * {@code --save_merged_model} with LyCORIS files (LoRA, LoHa, LoKr, full; {@link LycorisMerge}): the DiT file written
 * with each module's update merged into its weight (fp32, stored back in the weight's dtype) and every other tensor as
 * it is, in one pass through the same {@link MergePipeline} as a LoRA merge (reading ahead and writing behind on their
 * own threads, a few tensors in memory), the output atomic (temp file, fsync, rename). The metadata is the base's plus
 * {@code lycoris_merged} (files and multipliers).
 */
public final class LycorisMerger {
    private LycorisMerger() {
    }

    /**
     * Returns how many weights changed.
     *
     * @throws LoraidException naming the file or module when a module fits no weight's shape, a weight is fp8, or no
     *                         module of a file has a weight in the base
     */
    public static int mergeFile(Path dit, List<Path> files, List<Double> multipliers, Path output, Reporter reporter) {
        try (TensorSource base = TensorSource.open(dit); LoraFiles.Opened opened = new LoraFiles.Opened();
             MemoryScope outside = MemoryScope.suspend()) {
            Map<String, String> weightOf = new LinkedHashMap<>();
            for (String n : base.names()) {
                if (n.endsWith(".weight")) {
                    weightOf.put(WanKeys.stripPrefix(n.substring(0, n.length() - ".weight".length())), n);
                }
            }
            Map<String, Consumer<Tensor>> updates = LycorisMerge.updatesByWeight(opened, files, multipliers, weightOf::get,
                    reporter);
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            long outBytes = 0;
            long total = 0;
            for (String n : base.names()) {
                TensorInfo info = base.info(n);
                if (updates.containsKey(n) && (info.dtype() == DType.F8_E4M3 || info.dtype() == DType.F8_E5M2)) {
                    throw new LoraidException(dit + ": " + n + " is " + info.dtype() + ": merging into fp8 weights is not "
                        + "supported; use a bf16/fp16/fp32 DiT");
                }
                entries.add(new SafetensorsWriter.Entry(n, info.dtype(), info.shape()));
                total += info.byteSize();
                if (updates.containsKey(n)) {
                    outBytes = Math.max(outBytes, info.byteSize());
                }
            }
            Map<String, String> metadata = new LinkedHashMap<>(base.metadata());
            List<String> merged = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                merged.add(files.get(i).getFileName() + "@" + multipliers.get(i));
            }
            metadata.put("lycoris_merged", merged.stream().collect(Collectors.joining(" ")));
            long done = 0;
            try (SafetensorsWriter w = SafetensorsWriter.create(output, entries, metadata);
                 StreamingTensorReader reader = new StreamingTensorReader(base);
                 MergePipeline pipe = new MergePipeline(reader, base.names(), outBytes, w)) {
                for (SafetensorsWriter.Entry e : entries) {
                    MergePipeline.Read r = pipe.next();
                    Consumer<Tensor> update = updates.get(e.name());
                    if (update == null) {
                        pipe.write(r);
                    } else {
                        MemorySegment buffer = pipe.outputBuffer();
                        Tensor out = new Tensor(Storage.host(buffer.asSlice(0, e.byteSize())), e.dtype(), e.shape(),
                                e.shape().contiguousStrides(), 0);
                        try (MemoryScope scope = MemoryScope.open()) {
                            WeightUpdate.updateInto(r.tensor(), update, out);
                        }
                        pipe.release(r);
                        pipe.write(e.name(), out, buffer);
                    }
                    done += e.byteSize();
                    reporter.progress("merge", done, total);
                }
                pipe.finish();
                w.finish();
            }
            reporter.info("merged " + files.size() + " LyCORIS file(s) into " + updates.size() + " weight(s): " + output);
            return updates.size();
        } catch (IOException e) {
            throw new LoraidException(output + ": cannot write the merged DiT (" + e.getMessage() + ")", e);
        }
    }
}
