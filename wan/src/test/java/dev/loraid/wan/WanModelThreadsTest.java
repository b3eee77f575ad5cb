package dev.loraid.wan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** What WanModel's comment promises about threads: no-grad forwards of one CPU model may run concurrently. */
class WanModelThreadsTest {
    @Test
    void concurrentForwardsOfOneCpuModelGiveTheSequentialResult() throws Exception {
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"));
             SafetensorsFile golden = Golden.open("wan_tiny_forward.safetensors")) {
            WanModel model = ck.model(Device.CPU);
            WanInputs in = WanInputs.of(golden.tensor("x"), golden.tensor("t"), golden.tensor("context"));
            float[] expected = model.forward(in).toFloatArray();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> runs = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    runs.add(pool.submit(() -> model.forward(in).toFloatArray()));
                }
                for (Future<float[]> r : runs) {
                    assertArrayEquals(expected, r.get(), 0f, "a concurrent forward differs from the sequential one");
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
