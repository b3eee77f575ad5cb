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

    /** The fp8 checkpoint written to {@code dir}, its dequantised twin's weights, and the golden inputs. */
    private record Case(Path fp8, Map<String, Tensor> dequantised, WanInputs in) {
    }

    private Case fp8Case() throws IOException {
        Map<String, Tensor> fp8 = new LinkedHashMap<>();
        Map<String, Tensor> dequantised = new LinkedHashMap<>();
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
            SafetensorsWriter.write(dir.resolve("fp8.safetensors"), fp8, w.metadata());
            return new Case(dir.resolve("fp8.safetensors"), dequantised,
                    WanInputs.of(g.tensor("x").copy(), g.tensor("t").copy(), g.tensor("context").copy()));
        }
    }

    @Test
    void fp8ModelMatchesItsDequantisedTwin() throws IOException {
        Case c = fp8Case();
        // both models on the device under test: the fp8 path against its F32 twin on the same backend
        Device device = TestDevice.get();
        Tensor expected = WanModel.load(WanPresets.TINY, new WanWeights(c.dequantised(), "dequantised")).to(device).forward(c.in());
        try (WanCheckpoint ck = WanCheckpoint.open(c.fp8())) {
            assertEquals(DType.F8_E4M3, ck.weights().get("blocks.0.ffn.2.weight").dtype(), "kept in its file dtype");
            assertEquals(DType.F32, ck.weights().get("blocks.3.norm3.weight").dtype(), "fp8 vectors are widened");
            Tensor got = ck.model(device).forward(c.in());
            double err = Golden.assertClose("fp8 output", expected, got, 1e-5, 1e-5);
            System.out.printf("fp8 model vs dequantised twin: max abs error %.2e%n", err);
        }
    }

    /**
     * An adapter that folds an update into the layer's weight (as LoHa and LoKr do) gets the dequantised weight from
     * every scale layout ({@link WanLinear#denseWeight()}): the fp8 model with it computes what its F32 twin with it does.
     */
    @Test
    void foldedWeightsStartFromTheDequantisedWeights() throws IOException {
        Case c = fp8Case();
        Device device = TestDevice.get();
        WanModel twin = WanModel.load(WanPresets.TINY, new WanWeights(c.dequantised(), "dequantised")).to(device);
        foldEverywhere(twin);
        Tensor expected = twin.forward(c.in());
        try (WanCheckpoint ck = WanCheckpoint.open(c.fp8())) {
            WanModel model = ck.model(device);
            foldEverywhere(model);
            Golden.assertClose("fp8 output, updates folded in", expected, model.forward(c.in()), 1e-5, 1e-5);
        }
    }

    /** On every block Linear: {@code W' = W + D} with a fixed D of the layer's shape (D[o, i] = 0.01·sin(o + 2i)). */
    private static void foldEverywhere(WanModel model) {
        model.namedModules().forEach((path, m) -> {
            if (m instanceof dev.loraid.autograd.nn.Linear l && path.startsWith("blocks.")) {
                l.setAdapter(new dev.loraid.autograd.nn.Linear.Adapter() {
                    @Override
                    public dev.loraid.autograd.Var apply(dev.loraid.autograd.Var x, dev.loraid.autograd.Var baseOut) {
                        throw new AssertionError(path + " did not ask for a folded weight");
                    }

                    @Override
                    public dev.loraid.autograd.Var foldedWeight(dev.loraid.autograd.nn.Linear layer) {
                        int out = (int) layer.outFeatures();
                        int in = (int) layer.inFeatures();
                        double[] d = new double[out * in];
                        for (int i = 0; i < d.length; i++) {
                            d[i] = 0.01 * Math.sin(i / in + 2.0 * (i % in));
                        }
                        Tensor delta = Tensor.ofDoubles(d, out, in).to(DType.F32).to(layer.weight().data().device());
                        dev.loraid.autograd.Var w = layer.denseWeight();
                        return (w.dtype() == DType.F32 ? w : w.to(DType.F32)).add(dev.loraid.autograd.Var.constant(delta));
                    }
                });
            }
        });
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
