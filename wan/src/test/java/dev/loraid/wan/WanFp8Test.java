package dev.loraid.wan;

import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MiniFloats;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.quant.Fp8Scales;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * fp8 checkpoints (spec wan.md §3.3): musubi's fp8-scaled Linear weights with block-wise (block 0), per-row
 * (block 1) and per-tensor (block 2) scales, and plain E5M2 weights and vectors without scales (block 3). The fp8
 * model must compute what an F32 model holding the dequantised weights computes, which the test builds itself.
 */
class WanFp8Test {
    @TempDir
    Path dir;

    @Test
    void fp8ModelMatchesItsDequantisedTwin() throws IOException {
        Map<String, Tensor> fp8 = new LinkedHashMap<>();
        Map<String, Tensor> dequantised = new LinkedHashMap<>();
        Tensor x;
        Tensor t;
        Tensor context;
        try (SafetensorsFile w = Golden.open("wan_tiny_weights.safetensors");
             SafetensorsFile g = Golden.open("wan_tiny_forward.safetensors")) {
            for (String n : w.names()) {
                Tensor v = w.tensor(n);
                int block = n.startsWith("blocks.") ? Integer.parseInt(n.split("\\.")[1]) : -1;
                if (block == 3) {
                    Tensor q = v.to(DType.F8_E5M2);
                    fp8.put(n, q);
                    dequantised.put(n, q.to(DType.F32));
                } else if (block >= 0 && Fp8Scales.isTarget(n)) {
                    quantise(n, v, block, fp8, dequantised);
                } else {
                    fp8.put(n, v);
                    dequantised.put(n, v.copy());
                }
            }
            x = g.tensor("x").copy();
            t = g.tensor("t").copy();
            context = g.tensor("context").copy();
            SafetensorsWriter.write(dir.resolve("fp8.safetensors"), fp8, w.metadata());
        }
        WanInputs in = WanInputs.of(x, t, context);
        // both models on the device under test: the fp8 path against its F32 twin on the same backend
        Device device = TestDevice.get();
        Tensor expected = WanModel.load(WanPresets.TINY, new WanWeights(dequantised, "dequantised")).to(device).forward(in);
        try (WanCheckpoint ck = WanCheckpoint.open(dir.resolve("fp8.safetensors"))) {
            assertEquals(DType.F8_E4M3, ck.weights().get("blocks.0.ffn.2.weight").dtype(), "kept in its file dtype");
            assertEquals(DType.F32, ck.weights().get("blocks.3.norm3.weight").dtype(), "fp8 vectors are widened");
            Tensor got = ck.model(device).forward(in);
            double err = Golden.assertClose("fp8 output", expected, got, 1e-5, 1e-5);
            System.out.printf("fp8 model vs dequantised twin: max abs error %.2e%n", err);
        }
    }

    /** musubi's quantisation with the scale layout of the block: 0 block-wise, 1 per row, 2 per tensor. */
    private static void quantise(String name, Tensor w, int block, Map<String, Tensor> fp8, Map<String, Tensor> deq) {
        int out = (int) w.size(0);
        int in = (int) w.size(1);
        int group = block == 0 ? Fp8Scales.BLOCK : in;
        double[] v = w.toDoubleArray();
        double[] scales = new double[block == 2 ? 1 : out * (in / group)];
        if (block == 2) {
            scales[0] = scaleOf(v, 0, v.length);
        } else {
            for (int o = 0; o < out; o++) {
                for (int j = 0; j < in / group; j++) {
                    scales[o * (in / group) + j] = scaleOf(v, o * in + j * group, group);
                }
            }
        }
        Tensor q = Tensor.empty(DType.F8_E4M3, out, in);
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double s = (float) scales[block == 2 ? 0 : i / group];
            byte b = MiniFloats.floatToE4m3((float) Math.max(-448, Math.min(448, v[i] / s)));
            q.setDouble(MiniFloats.e4m3ToFloat(b), i / in, i % in);
            d[i] = MiniFloats.e4m3ToFloat(b) * s;
        }
        long[] scaleShape = switch (block) {
            case 0 -> new long[] {out, in / group, 1};
            case 1 -> new long[] {out, 1};
            default -> new long[] {1};
        };
        String module = name.substring(0, name.length() - ".weight".length());
        fp8.put(name, q);
        fp8.put(module + WanKeys.SCALE_SUFFIX, Tensor.ofDoubles(scales, scaleShape).to(DType.F32));
        deq.put(name, Tensor.ofDoubles(d, out, in).to(DType.F32));
    }

    private static double scaleOf(double[] v, int from, int n) {
        double max = 0;
        for (int i = from; i < from + n; i++) {
            max = Math.max(max, Math.abs(v[i]));
        }
        return Math.max(max / 448.0, 1e-8);
    }
}
