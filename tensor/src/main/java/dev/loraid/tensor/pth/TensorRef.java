package dev.loraid.tensor.pth;

/**
 * A tensor as {@code torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...)} describes it:
 * a strided view, in elements, of a storage. Nothing is read until {@link PthFile} checks the view against the
 * storage's bytes.
 */
record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
}
