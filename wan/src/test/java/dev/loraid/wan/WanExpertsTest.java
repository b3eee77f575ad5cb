package dev.loraid.wan;

import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An A14B-style release folder built from the tiny golden models: base weights as high-noise, merged as low-noise. */
class WanExpertsTest {
    @TempDir
    Path dir;

    private static final WanVariant TINY_A14B = new WanVariant("tiny-a14b", WanPresets.TINY, List.of(
            WanVariant.HIGH_NOISE, WanVariant.LOW_NOISE), 0.875, 12.0, 40, 3.0, 4.0, 4, new int[] {4, 8, 8}, 5, 16);

    @Test
    void eachStepGetsTheExpertOfItsTimestep() throws IOException {
        Files.createDirectories(dir.resolve("high_noise_model"));
        Files.createDirectories(dir.resolve("low_noise_model"));
        Files.copy(Golden.path("wan_tiny_weights.safetensors"), dir.resolve("high_noise_model/model.safetensors"));
        Files.copy(Golden.path("lora_merged_weights.safetensors"), dir.resolve("low_noise_model/model.safetensors"));
        try (WanExperts experts = WanExperts.open(dir, TINY_A14B);
             SafetensorsFile merged = Golden.open("lora_merged_forward.safetensors");
             SafetensorsFile base = Golden.open("wan_tiny_forward.safetensors")) {
            assertSame(experts.modelFor(875), experts.modelFor(999));
            assertTrue(experts.modelFor(874) != experts.modelFor(875));
            // t = 500 < 875: the low-noise expert (the merged weights) must reproduce lora_merged_forward
            Tensor low = experts.modelFor(500).forward(WanInputs.of(merged.tensor("x"), merged.tensor("t"),
                    merged.tensor("context")));
            Golden.assertClose("low-noise expert", merged.tensor("output"), low, 1e-4, 1e-4);
            Tensor high = experts.modelFor(900).forward(WanInputs.of(base.tensor("x"), base.tensor("t"),
                    base.tensor("context")));
            Golden.assertClose("high-noise expert", base.tensor("output"), high, 1e-4, 1e-4);
        }
    }

    @Test
    void aFolderWithoutBothExpertsIsNamed() throws IOException {
        Files.createDirectories(dir.resolve("high_noise_model"));
        IOException e = assertThrows(IOException.class, () -> WanExperts.open(dir, TINY_A14B));
        assertTrue(e.getMessage().contains("no low_noise_model"), e.getMessage());
    }
}
