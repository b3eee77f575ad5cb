package dev.loraid.core.lora;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer target for LoRA key parsing ({@link LoraKeys}) and the module checks of {@link LoraWeights#of}. The input is
 * a tensor list, one tensor a line: {@code <name> <dim>,<dim>,... [<value>]} (e.g.
 * {@code lora_unet_blocks_0_self_attn_q.lora_down.weight 4,16}; value defaults to 0.5, "nan" is NaN), so the seeds
 * in {@code LoraWeightsFuzzTestInputs/of/} are readable and the fuzzer mutates names and shapes, not file framing
 * (the safetensors framing has its own target). {@link LoraWeights#of} either accepts the tensors or throws a
 * {@link LoraidException} naming the source; nothing else may escape.
 */
class LoraWeightsFuzzTest {
    private static final String SOURCE = "fuzz.safetensors";
    private static final long MAX_ELEMENTS = 1 << 16; // per input, so the harness never allocates much

    @FuzzTest
    @Timeout(5)
    void of(byte[] input) {
        Map<String, Tensor> tensors = new TreeMap<>();
        long budget = MAX_ELEMENTS;
        for (String line : new String(input, StandardCharsets.UTF_8).split("\n")) {
            String[] f = line.split(" ");
            if (f.length < 2 || f.length > 3) {
                continue;
            }
            long[] dims = parseDims(f[1]);
            long numel = dims == null ? -1 : numel(dims);
            if (numel < 0 || numel > budget) {
                continue;
            }
            budget -= numel;
            float[] data = new float[(int) numel];
            Arrays.fill(data, f.length == 3 && f[2].equals("nan") ? Float.NaN : 0.5f);
            tensors.put(f[0], Tensor.of(data, dims));
            checkKeyParsing(f[0]);
        }
        LoraWeights w;
        try {
            w = LoraWeights.of(new LoraFile(SOURCE, new TreeMap<>(tensors), Map.of()), Reporter.SILENT);
        } catch (LoraidException e) {
            assertTrue(e.getMessage().startsWith(SOURCE + ": "), e.getMessage());
            return;
        }
        for (String module : w.modules().keySet()) {
            String path = LoraKeys.modulePath(module);
            assertTrue(!path.isEmpty(), module);
            LoraKeys.blockIndex(module);
        }
    }

    /** What parse accepts it can print back: musubi names round-trip exactly. */
    private static void checkKeyParsing(String name) {
        LoraKeys.Key k = LoraKeys.parse(name);
        if (k != null) {
            assertEquals(name, k.musubi());
            LoraKeys.blockIndex(k.loraName());
            LoraKeys.modulePath(k.loraName());
        }
        LoraKeys.Key d = LoraKeys.parseDiffusers(name);
        if (d != null) {
            assertTrue(d.loraName().startsWith(LoraKeys.PREFIX), d.loraName());
            LoraKeys.blockIndex(d.loraName());
        }
    }

    private static long[] parseDims(String s) {
        if (s.equals("-")) {
            return new long[0]; // a scalar
        }
        String[] p = s.split(",");
        if (p.length > 6) {
            return null;
        }
        long[] dims = new long[p.length];
        for (int i = 0; i < p.length; i++) {
            if (p[i].isEmpty() || p[i].length() > 6 || !p[i].chars().allMatch(Character::isDigit)) {
                return null;
            }
            dims[i] = Long.parseLong(p[i]);
        }
        return dims;
    }

    private static long numel(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
            if (n > MAX_ELEMENTS) {
                return -1;
            }
        }
        return n;
    }
}
