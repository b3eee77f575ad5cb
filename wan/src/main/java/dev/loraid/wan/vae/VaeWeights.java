package dev.loraid.wan.vae;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.Arrays;
import java.util.Map;

/**
 * The VAE's parameters by upstream name, as the layers take them, on the model's device: convolution weights as they
 * are in the file when contiguous and on the CPU (the GEMM reads every float dtype), otherwise made contiguous (or
 * copied to the device) once, in their dtype; every {@code gamma} (stored [C,1,1,1] or [C,1,1]) pre-multiplied by
 * sqrt(C) into fp32 [C, 1, 1, 1] (spec vae-t5.md §1.1). Messages name the checkpoint and the key.
 */
final class VaeWeights {
    private final Map<String, Tensor> tensors;
    private final String where;
    private final Device device;

    VaeWeights(Map<String, Tensor> tensors, String where, Device device) {
        this.tensors = tensors;
        this.where = where;
        this.device = device;
    }

    Device device() {
        return device;
    }

    String where() {
        return where;
    }

    boolean has(String key) {
        return tensors.containsKey(key);
    }

    /** Whether any key starts with {@code prefix + "."}. */
    boolean hasModule(String prefix) {
        String p = prefix + ".";
        return tensors.keySet().stream().anyMatch(k -> k.startsWith(p));
    }

    Tensor tensor(String key) {
        Tensor t = tensors.get(key);
        if (t == null) {
            throw new IllegalArgumentException(where + ": missing VAE weight " + key);
        }
        if (t.isContiguous() && t.device().equals(device)) {
            return t;
        }
        try (MemoryScope outside = MemoryScope.suspend()) {
            return t.device().equals(device) ? t.contiguous() : t.to(device);
        }
    }

    Tensor gamma(String key) {
        Tensor g = tensor(key);
        long c = g.size(0);
        if (g.numel() != c) {
            throw new IllegalArgumentException(where + ": " + key + " is " + g.shape() + ", expected [" + c + ", 1, 1(, 1)]");
        }
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor out = Tensor.empty(device, DType.F32, c, 1, 1, 1);
            g.backend().binaryScalar(dev.loraid.tensor.BinaryOp.MUL, g.reshape(c, 1, 1, 1), Math.sqrt(c), out);
            return out;
        }
    }

    /** {@code <p>.weight} [O, I, kt, kh, kw] and {@code <p>.bias} [O] as a causal conv with time padding pt. */
    CausalConv3d conv(String p, int pt) {
        Tensor w = tensor(p + ".weight");
        Tensor b = tensor(p + ".bias");
        if (w.rank() != 5 || b.rank() != 1 || b.size(0) != w.size(0)) {
            throw new IllegalArgumentException(where + ": " + p + ".weight " + w.shape() + " / .bias " + b.shape()
                + ": expected a 3-D conv weight [O, I, kt, kh, kw] and bias [O]");
        }
        return new CausalConv3d(p, w, b, pt);
    }

    static String shape(Tensor t) {
        return Arrays.toString(t.shape().toArray());
    }
}
