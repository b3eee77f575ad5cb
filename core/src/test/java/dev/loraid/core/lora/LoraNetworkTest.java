package dev.loraid.core.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.core.CollectingReporter;
import dev.loraid.core.Floats;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.core.plan.LoraidAllocator;
import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanTaps;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The LoRA network on the tiny golden Wan model (training.md §2, spec loraid.md REQ-ALLOC-6/8, issue 6 isolation),
 * the model on {@link TestDevice} (the CPU here, the GPU on the GPU machine).
 */
class LoraNetworkTest {

    private interface ModelTest {
        void run(WanModel model, WanInputs in) throws Exception;
    }

    private static void withModel(ModelTest body) throws Exception {
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"), WanPresets.get("tiny").config());
                SafetensorsFile golden = SafetensorsFile.open(Golden.path("lora_merged_forward.safetensors"))) {
            body.run(ck.model(TestDevice.get()), WanInputs.of(golden.tensor("x"), golden.tensor("t"), golden.tensor("context")));
        }
    }

    private static Map<String, Tensor> forward(WanModel model, WanInputs in) {
        Map<String, Tensor> taps = new LinkedHashMap<>();
        WanTaps keep = (name, t) -> {
            if (name.endsWith(".out") || name.equals("output")) {
                try (MemoryScope outside = MemoryScope.suspend()) {
                    taps.put(name, TestDevice.host(t));
                }
            }
        };
        taps.put("returned", TestDevice.host(model.forward(in, keep)));
        return taps;
    }

    @Test
    void attached_lora_matches_the_golden_merged_forward() throws Exception {
        withModel((model, in) -> {
            LoraNetwork net = LoraNetwork.attach(model, LoraWeights.of(LoraFiles.read(Golden.path("lora_tiny.safetensors")), Reporter.SILENT), 0.8);
            assertEquals(40, net.adapters().size());
            Tensor out = model.forward(in);
            try (SafetensorsFile golden = SafetensorsFile.open(Golden.path("lora_merged_forward.safetensors"))) {
                Golden.assertClose("output", golden.tensor("output"), out, 1e-4, 1e-4);
            }
            net.detach();
        });
    }

    /**
     * LoHa and LoKr networks as training builds them (their update folded into each WanLinear's weight), with random
     * factors, give the forward of a second copy of the model into which the saved file was merged, as it loaded, by the LyCORIS
     * loader (generate's path: LycorisModule's own products).
     */
    @Test
    void loha_and_lokr_networks_give_the_forward_of_the_model_their_file_is_merged_into(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        withModel((model, in) -> {
            java.util.SplittableRandom r = new java.util.SplittableRandom(8);
            for (NetworkModule module : List.of(NetworkModule.LOHA, NetworkModule.LOKR)) {
                LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), module, 2, 1.0,
                        LoraAdapter.Dropouts.NONE, 2, 3, Reporter.SILENT);
                for (Parameter p : net.trainableParameters().values()) {
                    double[] v = new double[Math.toIntExact(p.shape().numel())];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = r.nextDouble(-0.3, 0.3);
                    }
                    p.copyFrom(Tensor.ofDoubles(v, p.shape().toArray()).to(DType.F32));
                }
                net.setMultiplier(0.8);
                Tensor withNet = TestDevice.host(model.forward(in));
                java.nio.file.Path file = dir.resolve(module + ".safetensors");
                LoraFiles.write(net.toLoraFile(file.toString(), Map.of(), DType.F32), file);
                net.detach();
                java.util.Set<String> changed = new java.util.HashSet<>();
                java.util.Set<String> names;
                try (SafetensorsFile f = SafetensorsFile.open(Golden.path("wan_tiny_weights.safetensors"))) {
                    names = new java.util.HashSet<>(f.names());
                }
                try (LoraFiles.Opened files = new LoraFiles.Opened()) {
                    java.util.function.BiFunction<String, Tensor, Tensor> merge = LycorisMerge.atLoad(files, List.of(file),
                            List.of(0.8), names, Reporter.SILENT);
                    try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"),
                            WanPresets.get("tiny").config(), dev.loraid.wan.quant.Fp8Load.NONE, (key, w) -> {
                                Tensor t = merge.apply(key, w);
                                if (t != w) {
                                    changed.add(key);
                                }
                                return t;
                            })) {
                        assertEquals(40, changed.size());
                        Tensor want = TestDevice.host(ck.model().to(TestDevice.get()).forward(in));
                        assertTrue(maxRelDiff(want, TestDevice.host(model.forward(in))) > 1e-3, module + ": the update changes the output");
                        assertTrue(maxRelDiff(want, withNet) < 1e-4, module + ": " + maxRelDiff(want, withNet));
                    }
                }
            }
        });
    }

    private static double maxRelDiff(Tensor a, Tensor b) {
        float[] x = Floats.read(a);
        float[] y = Floats.read(b);
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            scale = Math.max(scale, Math.abs(x[i]));
            worst = Math.max(worst, Math.abs(x[i] - y[i]));
        }
        return worst / scale;
    }

    @Test
    void loraid_2_changes_the_output_only_through_its_blocks() throws Exception {
        withModel((model, in) -> {
            Map<String, Tensor> base = forward(model, in);
            LoraNetwork net = LoraNetwork.attach(model, LoraWeights.of(LoraFiles.read(Golden.path("lora_id2.safetensors")), Reporter.SILENT), 0.7);
            Map<String, Tensor> with = forward(model, in);
            Golden.assertSameBytes("block0.out", base.get("block0.out"), with.get("block0.out"));
            Golden.assertSameBytes("block1.out", base.get("block1.out"), with.get("block1.out"));
            assertTrue(maxRelDiff(base.get("block2.out"), with.get("block2.out")) > 1e-3);
            assertTrue(maxRelDiff(base.get("returned"), with.get("returned")) > 1e-3);
            net.setMultiplier(0);
            Golden.assertSameBytes("output at multiplier 0", base.get("returned"), forward(model, in).get("returned"));
            net.setMultiplier(0.7);
            net.detach();
            Golden.assertSameBytes("output after detach", base.get("returned"), forward(model, in).get("returned"));
        });
    }

    @Test
    void disabled_adapter_returns_the_base_output_itself() {
        LoraAdapter a = new LoraAdapter("lora_unet_blocks_0_ffn_0", Parameter.trainable(Tensor.of(new float[] {1, 2}, 1, 2)),
                Parameter.trainable(Tensor.of(new float[] {3, 4}, 2, 1)), 1, LoraAdapter.Dropouts.NONE);
        Var x = Var.constant(Tensor.of(new float[] {1, 1}, 1, 2));
        // a Linear hands each output over to its adapter, which may add into it (Linear.Adapter): a fresh one per call
        Supplier<Var> base = () -> Var.constant(Tensor.of(new float[] {5, 6}, 1, 2));
        assertArrayEquals(new float[] {14, 18}, Floats.read(a.apply(x, base.get()).data())); // y + 1·(x·downᵀ = 3)·upᵀ = y + [9, 12]
        a.setMultiplier(0);
        Var y = base.get();
        assertSame(y, a.apply(x, y));
        assertArrayEquals(new float[] {5, 6}, Floats.read(y.data()));
        LoraAdapter dropped = new LoraAdapter("m", a.down(), a.up(), 1, new LoraAdapter.Dropouts(0, 0, 0.999999));
        dropped.setTraining(true);
        assertSame(y, dropped.apply(x, y)); // module dropout skips the branch
        dropped.setTraining(false);
        assertArrayEquals(new float[] {14, 18}, Floats.read(dropped.apply(x, base.get()).data())); // dropouts are training-only
    }

    @Test
    void two_loraids_applied_at_inference_equal_the_golden_merged_model() throws Exception {
        Tensor merged;
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("lora_id_merged_weights.safetensors"), WanPresets.get("tiny").config());
                SafetensorsFile golden = SafetensorsFile.open(Golden.path("lora_merged_forward.safetensors"))) {
            merged = ck.model(TestDevice.get()).forward(WanInputs.of(golden.tensor("x"), golden.tensor("t"), golden.tensor("context")));
        }
        withModel((model, in) -> {
            Tensor base = TestDevice.host(model.forward(in));
            // the golden files carry no ss_loraid: --LORAID assigns IDs by position and the range check catches a swap
            LoraidException swapped = assertThrows(LoraidException.class, () -> LoraApplication.apply(model,
                    List.of(Golden.path("lora_id2.safetensors"), Golden.path("lora_id1.safetensors")), unfiltered(2), Optional.of(List.of(1, 2)),
                    List.of(1.0, 0.7), 2, false, new CollectingReporter()));
            assertTrue(swapped.getMessage().contains("lora_id2.safetensors (LORAID 1, blocks 0–1) contains adapters for block(s) [2, 3]"),
                    swapped.getMessage());
            Golden.assertSameBytes("output after a refused application", base, TestDevice.host(model.forward(in)));
            LoraApplication app = LoraApplication.apply(model, List.of(Golden.path("lora_id1.safetensors"), Golden.path("lora_id2.safetensors")),
                    unfiltered(2), Optional.of(List.of(1, 2)), List.of(1.0, 0.7), 2, false, new CollectingReporter());
            assertEquals(2, app.applied().size());
            Golden.assertClose("output", merged, model.forward(in), 1e-4, 1e-4);
            app.detach();
            Golden.assertSameBytes("output after detach", base, TestDevice.host(model.forward(in)));
        });
    }

    @Test
    void two_loraid_files_attach_side_by_side_but_not_on_the_same_layer() throws Exception {
        withModel((model, in) -> {
            LoraWeights id1 = LoraWeights.of(LoraFiles.read(Golden.path("lora_id1.safetensors")), Reporter.SILENT);
            LoraWeights id2 = LoraWeights.of(LoraFiles.read(Golden.path("lora_id2.safetensors")), Reporter.SILENT);
            LoraNetwork a = LoraNetwork.attach(model, id1, 1.0);
            LoraNetwork b = LoraNetwork.attach(model, id2, 0.7);
            assertThrows(LoraidException.class, () -> LoraNetwork.attach(model, id1, 1.0));
            a.detach();
            b.detach();
        });
    }

    @Test
    void created_network_trains_only_its_slice() throws Exception {
        withModel((model, in) -> {
            CollectingReporter r = new CollectingReporter();
            ModuleSelector sel = new ModuleSelector(Optional.of(LoraidAllocator.slice(2, 2, 4)), List.of(), List.of());
            LoraNetwork net = LoraNetwork.create(model, sel, 4, 2.0, LoraAdapter.Dropouts.NONE, 7, r);
            assertEquals(20, net.adapters().size());
            assertTrue(net.adapters().keySet().stream().allMatch(p -> p.startsWith("blocks.2.") || p.startsWith("blocks.3.")));
            assertTrue(r.informed("LORAID 2: blocks 2–3, 20 modules"), r.infos.toString());
            LoraAdapter q = net.loraAdapters().get("blocks.2.self_attn.q");
            float bound = (float) (1 / Math.sqrt(64));
            for (float v : Floats.read(q.down().data())) {
                assertTrue(Math.abs(v) <= bound);
            }
            for (float v : Floats.read(q.up().data())) {
                assertEquals(0f, v);
            }
            net.setTraining(true);
            try (MemoryScope step = MemoryScope.open()) {
                Var pred = model.forward(Var.constant(in.x().to(model.device())), in.t().toDoubleArray(),
                        Var.constant(in.context().to(model.device())), WanTaps.NONE);
                Ops.mseLoss(pred, Var.constant(Tensor.zeros(model.device(), DType.F32, pred.shape().toArray())), null).backward();
            }
            // up = 0 at init: the loss reaches up, not yet down (∂L/∂down = upᵀ · …)
            assertTrue(max(q.up().grad()) > 0);
            assertEquals(0.0, max(q.down().grad()));
            assertTrue(model.trainableParameters().isEmpty());
            for (Parameter p : net.trainableParameters().values()) {
                assertTrue(p.requiresGrad());
            }
            Map<String, String> meta = new LinkedHashMap<>(LoraidMetadata.of(LoraidAllocator.slice(2, 2, 4)));
            LoraFile saved = net.toLoraFile("trained", meta, DType.BF16);
            LoraWeights back = LoraWeights.of(saved, Reporter.SILENT);
            assertEquals(20, back.modules().size());
            assertEquals(2.0, back.modules().get("lora_unet_blocks_3_ffn_2").alpha());
            assertEquals("2", saved.metadata().get("ss_loraid"));
            net.detach();
            assertNull(LoraNetwork.candidates(model).get("blocks.2.self_attn.q").adapter());
        });
    }

    private static double max(Tensor t) {
        double m = 0;
        for (float v : Floats.read(t)) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static List<LoraKeyFilter> unfiltered(int files) {
        return java.util.Collections.nCopies(files, LoraKeyFilter.NONE);
    }
}
