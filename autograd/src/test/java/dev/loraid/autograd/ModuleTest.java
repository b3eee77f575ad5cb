package dev.loraid.autograd;

import dev.loraid.autograd.nn.Activation;
import dev.loraid.autograd.nn.LayerNorm;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.autograd.nn.ModuleList;
import dev.loraid.autograd.nn.RMSNorm;
import dev.loraid.autograd.nn.Sequential;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Dotted names, state dicts and their loading rules. */
class ModuleTest {
    /** A miniature of Wan's block layout: names must come out exactly as in the checkpoint. */
    static final class Attn extends Module {
        final Linear q = registerModule("q", Linear.declared(4, 4, true, DType.BF16));
        final RMSNorm normQ = registerModule("norm_q", RMSNorm.declared(4, 1e-6, DType.BF16));
    }

    static final class Block extends Module {
        final Attn selfAttn = registerModule("self_attn", new Attn());
        final LayerNorm norm3 = registerModule("norm3", LayerNorm.declared(4, 1e-6, DType.BF16));
        final Sequential ffn = registerModule("ffn", Sequential.of(Linear.declared(4, 8, true, DType.BF16),
            Activation.gelu(), Linear.declared(8, 4, true, DType.BF16)));
    }

    static final class Model extends Module {
        final ModuleList<Block> blocks = registerModule("blocks", new ModuleList<>());

        Model(int n) {
            for (int i = 0; i < n; i++) {
                blocks.add(new Block());
            }
        }
    }

    @Test
    void parameterNamesAreDottedPaths() {
        Model m = new Model(2);
        List<String> names = List.copyOf(m.namedParameters().keySet());
        assertEquals(List.of("blocks.0.self_attn.q.weight", "blocks.0.self_attn.q.bias", "blocks.0.self_attn.norm_q.weight",
            "blocks.0.norm3.weight", "blocks.0.norm3.bias", "blocks.0.ffn.0.weight", "blocks.0.ffn.0.bias",
            "blocks.0.ffn.2.weight", "blocks.0.ffn.2.bias"), names.subList(0, 9));
        assertEquals(18, names.size());
        assertTrue(m.namedModules().containsKey("blocks.1.ffn.1"));
        assertTrue(m.trainableParameters().isEmpty(), "declared base weights are frozen");
    }

    /** A random BF16 tensor for every parameter of {@code m}, by name (what a checkpoint file would hold). */
    private static Map<String, Tensor> randomBf16(Model m) {
        Map<String, Tensor> saved = new LinkedHashMap<>();
        long seed = 1;
        for (var e : m.namedParameters().entrySet()) {
            saved.put(e.getKey(), f32(seed++, e.getValue().shape().toArray()).to(DType.BF16));
        }
        return saved;
    }

    @Test
    void loadStateDictAdoptsFrozenWeightsFromAMappedFileWithoutCopying(@TempDir Path dir) throws Exception {
        Model m = new Model(1);
        Map<String, Tensor> saved = randomBf16(m);
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, saved, Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            LoadReport r = m.loadStateDict(StateSource.of(f), true);
            assertTrue(r.isClean());
            Parameter w = m.namedParameters().get("blocks.0.ffn.2.weight");
            assertEquals(DType.BF16, w.dtype());
            assertEquals(f.tensor("blocks.0.ffn.2.weight").storage().segment().address(), w.data().storage().segment().address(),
                "frozen weight must be a view of the mapped file");
            assertArrayEquals(saved.get("blocks.0.ffn.2.weight").toDoubleArray(), w.data().toDoubleArray(), 0);
        }
    }

    /** to(cpu) on a CPU model moves nothing: mapped weights stay views, buffers and gradients stay the same objects. */
    @Test
    void movingToTheDeviceItIsOnKeepsMappedViews(@TempDir Path dir) throws Exception {
        Model m = new Model(1);
        Map<String, Tensor> saved = randomBf16(m);
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, saved, Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            m.loadStateDict(StateSource.of(f), true);
            Parameter bias = m.namedParameters().get("blocks.0.ffn.0.bias").requiresGrad(true);
            bias.accumulateGrad(Tensor.full(DType.F32, 1.0, 8));
            Map<String, Tensor> before = m.stateDict();
            Tensor grad = bias.grad();

            assertSame(m, m.to(Device.CPU));
            assertEquals(Device.CPU, m.device());
            m.stateDict().forEach((k, t) -> assertSame(before.get(k), t, k + " was copied"));
            assertEquals(f.tensor("blocks.0.ffn.2.weight").storage().segment().address(),
                m.namedParameters().get("blocks.0.ffn.2.weight").data().storage().segment().address());
            assertSame(grad, bias.grad(), "the gradient survives a move to where it already is");

            WithAlpha a = new WithAlpha();
            Tensor alpha = a.alpha();
            a.to(Device.CPU);
            assertSame(alpha, a.alpha());
        }
    }

    /** Without a usable GPU, moving to cuda fails first, saying why, and leaves every tensor where it was. */
    @Test
    void movingToAnUnusableDeviceFailsBeforeMovingAnything() {
        String problem = Backends.problem(Device.cuda(0));
        assumeTrue(problem != null, "cuda:0 is usable here: the move is covered by the GPU tests");
        Linear l = Linear.trainable(3, 2, true, 5);
        Tensor w = l.weight().data();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.to(Device.cuda(0)));
        assertTrue(e.getMessage().contains("cuda:0"), e.getMessage());
        assertSame(w, l.weight().data());
        assertEquals(Device.CPU, l.device());
    }

    @Test
    void aModuleSplitOverTwoDevicesNamesBoth() {
        Linear l = Linear.declared(2, 2, true, DType.F32);
        // a tensor that only claims to be on cuda:0 (never handed to a backend): device() reads the claim alone
        Tensor onGpu = new Tensor(new Storage(Device.cuda(0), MemorySegment.ofArray(new float[2]), null), DType.F32,
            Shape.of(2), new long[] {1}, 0);
        l.loadStateDict(StateSource.of(Map.of("weight", Tensor.zeros(DType.F32, 2, 2), "bias", onGpu)), true);
        IllegalStateException e = assertThrows(IllegalStateException.class, l::device);
        assertTrue(e.getMessage().contains("weight on cpu, bias on cuda:0"), e.getMessage());
    }

    @Test
    void strictLoadNamesMissingUnexpectedAndMisshapedKeys() {
        Model m = new Model(1);
        Map<String, Tensor> src = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> src.put(n, Tensor.zeros(DType.BF16, p.shape().toArray())));
        src.remove("blocks.0.norm3.bias");
        src.put("blocks.0.extra.weight", Tensor.zeros(DType.F32, 2));
        src.put("blocks.0.ffn.0.weight", Tensor.zeros(DType.BF16, 8, 5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(StateSource.of(src), true));
        String msg = e.getMessage();
        assertTrue(msg.contains("missing keys (1): blocks.0.norm3.bias"), msg);
        assertTrue(msg.contains("unexpected keys (1): blocks.0.extra.weight"), msg);
        assertTrue(msg.contains("blocks.0.ffn.0.weight: expected [8, 4], got [8, 5]"), msg);
        assertFalse(m.namedParameters().get("blocks.0.self_attn.q.weight").isLoaded(), "nothing loaded on error");

        src.put("blocks.0.ffn.0.weight", Tensor.zeros(DType.BF16, 8, 4));
        LoadReport r = m.loadStateDict(StateSource.of(src), false);
        assertEquals(List.of("blocks.0.norm3.bias"), r.missing());
        assertEquals(List.of("blocks.0.extra.weight"), r.unexpected());
        assertTrue(m.namedParameters().get("blocks.0.self_attn.q.weight").isLoaded());
    }

    @Test
    void trainableParametersAreCopiedAndCastIntoTheirOwnMemory() {
        Linear l = Linear.trainable(3, 2, true, 5);
        Tensor before = l.weight().data();
        Tensor w = f32(9, 2, 3).to(DType.BF16);
        l.loadStateDict(StateSource.of(Map.of("weight", w, "bias", Tensor.zeros(DType.F32, 2))), true);
        assertSame(before, l.weight().data());
        assertEquals(DType.F32, l.weight().dtype());
        assertArrayEquals(w.toDoubleArray(), l.weight().data().toDoubleArray(), 0);
        assertEquals(Map.of("weight", l.weight().data(), "bias", l.bias().data()), l.stateDict());
    }

    static final class WithAlpha extends Module {
        WithAlpha() {
            registerBuffer("alpha", Tensor.zeros(DType.F32));
        }

        Tensor alpha() {
            return buffer("alpha");
        }
    }

    @Test
    void buffersAreCopiedAndOutliveTheirSourceFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("alpha.safetensors");
        SafetensorsWriter.write(file, Map.of("alpha", Tensor.full(DType.BF16, 16.0)), Map.of());
        WithAlpha m = new WithAlpha();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertTrue(m.loadStateDict(StateSource.of(f), true).isClean());
        }
        assertEquals(DType.BF16, m.alpha().dtype());
        assertEquals(16.0, m.alpha().getDouble(), 0);
    }

    @Test
    void anUnfrozenDeclaredParameterGetsItsOwnMemoryOnLoad() {
        Linear l = Linear.declared(2, 3, false, DType.F32);
        l.requiresGrad(true);
        Tensor w = f32(4, 3, 2).to(DType.BF16);
        l.loadStateDict(StateSource.of(Map.of("weight", w)), true);
        assertEquals(DType.F32, l.weight().dtype());
        assertArrayEquals(w.toDoubleArray(), l.weight().data().toDoubleArray(), 0);
        assertEquals(1, l.trainableParameters().size());
    }

    @Test
    void prefixedCheckpointKeysAreStripped() {
        Linear l = Linear.declared(2, 2, false, DType.F32);
        Tensor w = f32(3, 2, 2);
        LoadReport r = l.loadStateDict(StateSource.stripPrefix(StateSource.of(Map.of("model.diffusion_model.weight", w,
            "other", w)), "model.diffusion_model."), true);
        assertTrue(r.isClean());
        assertSame(w, l.weight().data());
    }

    @Test
    void linearInitIsPyTorchsUniformBound() {
        Linear l = Linear.trainable(64, 32, true, 42);
        double bound = 1 / Math.sqrt(64);
        double max = 0;
        for (double v : l.weight().data().toDoubleArray()) {
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max < bound && max > 0.9 * bound, "max |w| " + max + " vs bound " + bound);
        assertArrayEquals(l.weight().data().toDoubleArray(), Linear.trainable(64, 32, true, 42).weight().data().toDoubleArray(), 0,
            "same seed, same weights");
    }
}
