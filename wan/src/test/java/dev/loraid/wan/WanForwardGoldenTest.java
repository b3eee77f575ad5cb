package dev.loraid.wan;

import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole forward pass against the golden files (testdata/golden/README.md): the final output and every listed
 * intermediate within 1e-4 abs + 1e-4 rel, the attention probabilities within 1e-5 abs + 1e-4 rel. The model runs on
 * {@link TestDevice} (the CPU here, the GPU on the GPU machine); taps and outputs are copied back to compare.
 */
class WanForwardGoldenTest {
    /** musubi's bf16 residual stream: every block output is bf16-representable, and the output stays close. */
    @org.junit.jupiter.api.Test
    void bf16ResidualRoundsTheStreamAfterEveryAdd() throws IOException {
        Device device = TestDevice.get();
        Map<String, Tensor> taps = new LinkedHashMap<>();
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"));
             SafetensorsFile golden = Golden.open("wan_tiny_forward.safetensors")) {
            WanModel model = ck.model(device);
            model.setBf16Residual(true);
            Tensor out = model.forward(WanInputs.of(golden.tensor("x"), golden.tensor("t"), golden.tensor("context")),
                    (name, t) -> {
                        if (name.endsWith(".out")) {
                            try (MemoryScope outside = MemoryScope.suspend()) {
                                taps.put(name, TestDevice.host(t));
                            }
                        }
                    });
            for (Map.Entry<String, Tensor> e : taps.entrySet()) {
                for (double v : e.getValue().toDoubleArray()) {
                    org.junit.jupiter.api.Assertions.assertEquals(v,
                            dev.loraid.tensor.MiniFloats.bf16ToFloat(dev.loraid.tensor.MiniFloats.floatToBf16((float) v)),
                            0.0, e.getKey() + " is not bf16-representable");
                }
            }
            double err = Golden.assertClose("bf16-residual output", golden.tensor("output"), out, 2e-2, 2e-2);
            assertTrue(err > 1e-6, "the rounding is visible in the output (max error " + err + ")");
        }
    }

    private static final String[] INTERMEDIATES = {"tokens", "sinusoid", "e", "e0", "context_emb", "rope_cos",
        "rope_sin", "block0.self_attn_out", "block0.cross_attn_out", "block0.ffn_out", "block0.out", "block1.out",
        "block2.out", "block3.out", "head_out", "output"};

    @ParameterizedTest
    @CsvSource({
        "wan_tiny_forward.safetensors, wan_tiny_weights.safetensors, tiny",
        "wan_tiny_forward_t2.safetensors, wan_tiny_weights.safetensors, tiny",
        "wan_tiny_forward_v22.safetensors, wan_tiny_weights.safetensors, tiny-v22",
        "lora_merged_forward.safetensors, lora_merged_weights.safetensors, tiny"})
    void forwardMatchesTheGoldenFile(String caseFile, String weightsFile, String variant) throws IOException {
        Device device = TestDevice.get();
        Map<String, Tensor> taps = new LinkedHashMap<>();
        WanTaps keep = (name, t) -> {
            try (MemoryScope outside = MemoryScope.suspend()) {
                taps.put(name, TestDevice.host(t));
            }
        };
        WanConfig config = WanPresets.get(variant).config();
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path(weightsFile), config);
             SafetensorsFile golden = Golden.open(caseFile)) {
            WanModel model = ck.model(device);
            Tensor out = model.forward(WanInputs.of(golden.tensor("x"), golden.tensor("t"), golden.tensor("context")), keep);
            assertEquals(device, out.device(), "the output stays on the model's device");
            StringBuilder report = new StringBuilder(caseFile + " max abs error:");
            int compared = 0;
            for (String name : INTERMEDIATES) {
                if (!golden.contains(name)) {
                    continue;
                }
                boolean table = name.startsWith("rope_") || name.equals("sinusoid");
                double err = Golden.assertClose(caseFile + " " + name, golden.tensor(name), taps.get(name),
                        table ? 1e-6 : 1e-4, table ? 0 : 1e-4);
                report.append(String.format(" %s=%.2e", name, err));
                compared++;
            }
            Golden.assertClose(caseFile + " returned output", golden.tensor("output"), out, 1e-4, 1e-4);
            if (golden.contains("block0.self_attn_probs")) {
                Tensor probs = AttentionReference.probabilities(taps.get("block0.self_attn.q"), taps.get("block0.self_attn.k"));
                double err = Golden.assertClose(caseFile + " block0.self_attn_probs",
                        golden.tensor("block0.self_attn_probs"), probs, 1e-5, 1e-4);
                report.append(String.format(" probs=%.2e", err));
            }
            assertTrue(compared >= 2, "compared too few tensors of " + caseFile);
            // the differentiable path (whole graph in one scope) computes the same as the in-place one
            try (MemoryScope s = MemoryScope.open()) {
                Tensor graph = model.forward(Var.constant(golden.tensor("x").to(device)), golden.tensor("t").toDoubleArray(),
                        Var.constant(golden.tensor("context").to(device)), WanTaps.NONE).data();
                Golden.assertClose(caseFile + " differentiable path output", golden.tensor("output"), graph, 1e-4, 1e-4);
            }
            System.out.println(report + " (on " + device + ")");
        }
    }
}
