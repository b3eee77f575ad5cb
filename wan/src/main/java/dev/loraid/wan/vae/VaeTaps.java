package dev.loraid.wan.vae;

import dev.loraid.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Intermediate activations of one encode/decode call, by golden name ({@code enc_conv1_out}, {@code enc_resblock0_out},
 * {@code enc_middle_out}, {@code dec_conv1_out}, {@code dec_middle_out}); each chunk's piece is kept and the pieces
 * are joined in time, so a chunked run yields whole-clip tensors.
 */
public final class VaeTaps {
    private final Map<String, List<Tensor>> pieces = new LinkedHashMap<>();

    void record(String name, Tensor x) {
        pieces.computeIfAbsent(name, k -> new ArrayList<>()).add(VaeOps.keep(x));
    }

    /** The tensor recorded under {@code name}, chunks joined along time, or null. */
    public Tensor get(String name) {
        List<Tensor> list = pieces.get(name);
        if (list == null) {
            return null;
        }
        Tensor out = null;
        for (Tensor t : list) {
            out = VaeOps.catTime(out, t);
        }
        return out;
    }

    public java.util.Set<String> names() {
        return pieces.keySet();
    }
}
