package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;

/**
 * One tensor's header entry: name, dtype, shape, and its byte span {@code [begin, end)} relative to the start of
 * the data section (the header's {@code data_offsets}). For a {@code .pth} file, {@code begin} is the file offset of
 * the tensor's first element and {@code end - begin} is numel × element size (the view may be strided).
 */
public record TensorInfo(String name, DType dtype, Shape shape, long begin, long end) {
    public long byteSize() {
        return end - begin;
    }

    @Override
    public String toString() {
        return name + " " + dtype.safetensorsName() + " " + shape;
    }
}
