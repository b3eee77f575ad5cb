package dev.loraid.core.ema;

import dev.loraid.core.LoraFixtures;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/** Epoch files with constant tensors and explicit modification times (spec loraid.md §8 fixtures). */
final class EmaTestFiles {
    static final String Q = "lora_unet_blocks_0_self_attn_q";

    private EmaTestFiles() {
    }

    /** A one-module LoRA whose down and up tensors are all {@code value}, alpha {@code alpha}. */
    static LoraFile constant(float value, float alpha, DType dtype, Map<String, String> metadata) {
        SortedMap<String, Tensor> t = new TreeMap<>();
        t.put(Q + ".lora_down.weight", Dtyped.of(value, dtype, 2, 8));
        t.put(Q + ".lora_up.weight", Dtyped.of(value, dtype, 8, 2));
        t.put(Q + ".alpha", Tensor.scalar(alpha));
        return new LoraFile("mem", t, metadata);
    }

    static Path write(LoraFile f, Path file, long mtimeSeconds) throws Exception {
        Files.createDirectories(file.getParent());
        LoraFiles.write(f, file);
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtimeSeconds * 1000));
        return file;
    }

    static TreeSet<String> keys(LoraFile f) {
        return new TreeSet<>(f.tensors().keySet());
    }

    /** Constant tensors in a given dtype. */
    static final class Dtyped {
        static Tensor of(float v, DType dtype, long... dims) {
            float[] a = new float[Math.toIntExact(Shape.of(dims).numel())];
            java.util.Arrays.fill(a, v);
            return LoraFixtures.tensor(dtype, Shape.of(dims), a);
        }
    }
}
