package dev.loraid.wan.swap;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanWeights;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HostWeights} on the tiny golden DiT, its weights views of the open file as a checkpoint's are: after a trip to
 * {@link TestDevice} and back, every frozen weight is again the very tensor it was loaded from (not a copy of the
 * device's), a weight made trainable meanwhile comes back as a copy, and the model computes what it computed before.
 * On the CPU, where {@code Module.to} moves nothing, the trip replaces every weight by a copy, as a GPU's would.
 */
class HostWeightsTest {
    private static final String HEAD = "head.head.weight";

    @Test
    void aModelBackOnTheHostHoldsTheTensorsItWasLoadedFrom() throws IOException {
        Device device = TestDevice.get();
        try (SafetensorsFile file = Golden.open("wan_tiny_weights.safetensors");
             SafetensorsFile g = Golden.open("wan_tiny_forward_v22.safetensors")) {
            Map<String, Tensor> views = new LinkedHashMap<>();
            for (String n : file.names()) {
                views.put(n, file.tensor(n));
            }
            WanModel model = WanModel.load(WanPresets.TINY, new WanWeights(views, "tiny"));
            WanInputs in = WanInputs.of(g.tensor("x").copy(), Tensor.of(new float[] {500f}, 1), g.tensor("context").copy());
            float[] before = model.forward(in).toFloatArray();
            Map<String, Tensor> loaded = new LinkedHashMap<>();
            model.namedParameters().forEach((n, p) -> loaded.put(n, p.data()));

            HostWeights host = HostWeights.of(model);
            assertEquals(loaded.size(), host.size(), "every weight is frozen and on the host");
            Parameter head = model.namedParameters().get(HEAD);
            head.requiresGrad(true); // trainable from now on: it may change on the device, so it must be copied back
            if (device.isCpu()) {
                model.namedParameters().values().forEach(p -> p.adopt(p.data().copy()));
            } else {
                model.to(device);
                assertEquals(device, model.device());
            }
            host.moveToHost(model);

            assertEquals(Device.CPU, model.device());
            model.namedParameters().forEach((n, p) -> {
                if (n.equals(HEAD)) {
                    assertNotSame(loaded.get(n), p.data(), n + " was trainable: copied back");
                    assertArrayEquals(loaded.get(n).toFloatArray(), p.data().toFloatArray(), n);
                } else {
                    assertSame(loaded.get(n), p.data(), n);
                }
            });
            head.requiresGrad(false);
            assertArrayEquals(before, model.forward(in).toFloatArray(), "the same output after the trip");
        }
    }

    @Test
    void anotherModelIsRefusedNamingTheMissingWeight() {
        HostWeights host = HostWeights.of(new Linear(Parameter.of(Tensor.zeros(DType.F32, 2, 3), false), null));
        assertEquals(1, host.size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> host.moveToHost(new WanModel(WanPresets.TINY)));
        assertTrue(e.getMessage().contains("no parameter weight") && e.getMessage().contains("another model"), e.getMessage());
    }
}
