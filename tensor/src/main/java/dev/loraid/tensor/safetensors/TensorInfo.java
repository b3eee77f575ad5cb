package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;

/**
 * One tensor's header entry: name, dtype, shape, and its byte span {@code [begin, end)} relative to the start of
 * the data section (the header's {@code data_offsets}).
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
