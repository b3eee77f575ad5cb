package dev.loraid.bench.gpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.quant.Fp8Load;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Random Wan weights and inputs drawn on the device by its counter-based generator (no file, no host round trip: a
 * 14B model's 28 GB would take minutes to draw in Java), with the scales of {@code TrainStepCase}: Linear weights
 * N(0, 1/in), norm weights 1 + N(0, 0.1²), the rest N(0, 0.1²). Owned tensors, outside any memory scope.
 */
final class DeviceWeights {
    private DeviceWeights() {
    }

    /**
     * The keys of {@code shapes} that {@code keep} accepts, each drawn in {@code dtype} on {@code device} (key
     * {@code k} from stream {@code seed + k}); with {@code fp8}, the block Linear weights are then cast to E4M3 on the
     * device ({@code train --fp8_base}, {@link Fp8Load#CAST}); with {@code host}, each tensor is copied to host memory as
     * soon as it is made (what block swap keeps there), so the device never holds more than one weight.
     */
    static Map<String, Tensor> random(Backend be, Map<String, long[]> shapes, Predicate<String> keep, DType dtype, long seed,
            boolean fp8, boolean host) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        long k = seed;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String key = e.getKey();
            long[] shape = e.getValue();
            k++;
            if (!keep.test(key)) {
                continue;
            }
            boolean norm = key.contains("norm") && key.endsWith(".weight");
            double sd = key.endsWith(".weight") && shape.length == 2 && !norm ? 1 / Math.sqrt(shape[1]) : 0.1;
            Tensor t = normal(be, dtype, k, sd, norm ? 1 : 0, shape);
            try (MemoryScope outside = MemoryScope.suspend()) {
                if (fp8 && Fp8Load.isTarget(key, shape)) {
                    t = t.to(DType.F8_E4M3);
                }
                if (host && !be.device().isCpu()) {
                    t = t.to(Device.CPU);
                }
            }
            out.put(key, t);
        }
        return out;
    }

    /** {@code mean + sd·N(0, 1)} of {@code shape} in {@code dtype} on the device, from stream {@code seed}. */
    static Tensor normal(Backend be, DType dtype, long seed, double sd, double mean, long... shape) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor t = Tensor.empty(be.device(), dtype, shape);
            be.randomNormal(t, seed, 0);
            be.binaryScalar(BinaryOp.MUL, t, sd, t);
            if (mean != 0) {
                be.binaryScalar(BinaryOp.ADD, t, mean, t);
            }
            return t;
        }
    }
}
