package dev.loraid.wan;

import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Released checkpoints are BF16 (spec §1.1) or FP16: every weight — Linear weights and biases, norm weights,
 * modulation vectors — is read in its file dtype by the kernels. The result must equal an F32 model holding the
 * same (rounded) values.
 */
class WanBf16Test {
    @TempDir
    Path dir;

    @Test
    void halfPrecisionCheckpointsComputeWhatTheirF32TwinComputes() throws IOException {
        for (DType half : new DType[] {DType.BF16, DType.F16}) {
            Map<String, Tensor> narrow = new LinkedHashMap<>();
            Map<String, Tensor> widened = new LinkedHashMap<>();
            Path file = dir.resolve(half.safetensorsName() + ".safetensors");
            WanInputs in;
            try (SafetensorsFile w = Golden.open("wan_tiny_weights.safetensors");
                 SafetensorsFile g = Golden.open("wan_tiny_forward.safetensors")) {
                for (String n : w.names()) {
                    Tensor h = w.tensor(n).to(half);
                    narrow.put(n, h);
                    widened.put(n, h.to(DType.F32));
                }
                SafetensorsWriter.write(file, narrow, w.metadata());
                in = WanInputs.of(g.tensor("x").copy(), g.tensor("t").copy(), g.tensor("context").copy());
            }
            // both on the device under test: the half-precision weights against their F32 twin on the same backend
            Device device = TestDevice.get();
            Tensor expected = WanModel.load(WanPresets.TINY, new WanWeights(widened, "widened")).to(device).forward(in);
            try (WanCheckpoint ck = WanCheckpoint.open(file)) {
                assertEquals(half, ck.weights().get("blocks.2.modulation").dtype());
                double err = Golden.assertClose(half + " model output", expected, ck.model(device).forward(in), 1e-5, 1e-5);
                System.out.printf("%s checkpoint vs its F32 twin: max abs error %.2e%n", half, err);
            }
        }
    }
}
