package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Named tensors read from a checkpoint: one safetensors file ({@link SafetensorsFile}), several shards read as
 * one ({@link ShardedCheckpoint}), or a PyTorch {@code torch.save} state dict ({@link dev.loraid.tensor.pth.PthFile}).
 * Tensors are zero-copy views of memory-mapped files, valid until
 * {@link #close()}; copy ({@code tensor.copy()}, {@code tensor.to(...)}) what must outlive the source.
 *
 * <pre>{@code
 * try (TensorSource ckpt = TensorSource.open(Path.of("wan2.1_t2v_14B.safetensors"))) {  // or a dir, an index, a shard
 *     for (String name : ckpt.names()) {
 *         TensorInfo info = ckpt.info(name);           // dtype, shape: header only
 *     }
 *     Tensor w = ckpt.tensor("blocks.0.self_attn.q.weight");  // a view of the mapping, no copy
 * }
 * }</pre>
 */
public interface TensorSource extends AutoCloseable {
    /**
     * Opens a checkpoint given as: a {@code .safetensors} file; one shard named
     * {@code <prefix>NNNNN-of-MMMMM.safetensors} (all MMMMM shards are read, as musubi does, spec wan.md §3.3);
     * a {@code *.safetensors.index.json} shard index; a {@code .pth} or {@code .pt} file written by
     * {@code torch.save} (read without running any code from it); or a directory holding one index, one file, or one set of
     * numbered shards.
     */
    static TensorSource open(Path path) throws IOException {
        return CheckpointFiles.open(path);
    }

    /** Reads several files as one checkpoint; a tensor name in two files is an error. */
    static TensorSource open(List<Path> files) throws IOException {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no checkpoint files given");
        }
        return files.size() == 1 ? open(files.getFirst()) : ShardedCheckpoint.open(files);
    }

    /** What was opened, for messages: a path, or a path and a shard count. */
    String describe();

    /** Every tensor name, in file order (shard by shard, each in the order of its data). */
    List<String> names();

    boolean contains(String name);

    /** Dtype, shape and byte span of {@code name}; throws naming the checkpoint if it has no such tensor. */
    TensorInfo info(String name);

    /**
     * A CPU view of the mapped bytes of {@code name} (no copy). Contiguous for safetensors; a {@code .pth} tensor
     * keeps the storage offset and strides torch saved (several may share one storage), so call
     * {@code contiguous()} where code reads the raw bytes.
     */
    Tensor tensor(String name);

    /** String metadata ({@code __metadata__}) in file order. */
    Map<String, String> metadata();

    /** Unmaps the files: tensors from this source must not be used afterwards (they then throw, never crash). */
    @Override
    void close();
}
