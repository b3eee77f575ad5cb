package dev.loraid.wan.swap;

import dev.loraid.autograd.GradMode;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.CopyStream;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanTaps;
import dev.loraid.wan.WanWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BlockSwap} on the tiny golden DiT (4 blocks) on {@link TestDevice}: with N blocks swapped the forward output
 * and the gradients of the latent and the context are bit-identical to the model without swapping (the copies are
 * exact), with and without gradient checkpointing; the moves happen in the schedule's order, with R blocks resident at
 * every move; a forward without graph followed by a training forward restores the starting set.
 */
class BlockSwapTest {
    private static Map<String, Tensor> weights() throws IOException {
        Map<String, Tensor> w = new LinkedHashMap<>();
        try (SafetensorsFile f = Golden.open("wan_tiny_weights.safetensors")) {
            for (String n : f.names()) {
                w.put(n, f.tensor(n).copy()); // owned: the file is closed below
            }
        }
        return w;
    }

    private record Step(float[] out, float[] dLatent, float[] dContext) {
    }

    private static Step step(WanModel model, Tensor latent, Tensor context) {
        try (MemoryScope s = MemoryScope.open()) {
            Var x = Var.leaf(latent);
            Var ctx = Var.leaf(context);
            Var out = model.forward(x, new double[] {500.0}, ctx, WanTaps.NONE);
            out.backward(out.data()); // the gradient of ½·Σ out²
            return new Step(out.data().toFloatArray(), x.grad().toFloatArray(), ctx.grad().toFloatArray());
        }
    }

    /**
     * A copy stream whose copies land only when their fence is awaited, as an asynchronous one's may: a block used
     * before the swap waits for its copy would run on the slot's previous block. The host weights it is given back as
     * "pinned" are copies, so that the swap must copy from them.
     */
    private static final class LateCopies implements CopyStream {
        int fences;
        int awaited;

        @Override
        public Tensor pinned(Tensor host) {
            return host.copy();
        }

        @Override
        public Fence copyAfterCompute(List<Tensor> sources, List<Tensor> destinations) {
            CopyStream.checkPairs(sources, destinations, false);
            fences++;
            boolean[] done = {false};
            return () -> {
                if (!done[0]) {
                    done[0] = true;
                    awaited++;
                    CopyStream.SYNCHRONOUS.copyAfterCompute(sources, destinations);
                }
            };
        }
    }

    @ParameterizedTest(name = "N={0}, checkpointing={1}, late copies={2}")
    @CsvSource({"1,false,false", "2,false,false", "3,false,false", "2,true,false", "3,true,false", "1,false,true",
        "2,true,true", "3,false,true"})
    void swappedModelMatchesTheResidentOneBitForBit(int swapped, boolean checkpointing, boolean late) throws IOException {
        Device device = TestDevice.get();
        WanConfig config = WanPresets.TINY;
        Map<String, Tensor> w = weights();
        Tensor latent;
        Tensor context;
        try (SafetensorsFile g = Golden.open("wan_tiny_forward_v22.safetensors")) {
            latent = g.tensor("x").copy().to(device);
            context = g.tensor("context").copy().to(device);
        }
        WanModel plain = WanModel.load(config, new WanWeights(w, "tiny")).to(device);
        plain.setGradientCheckpointing(checkpointing);
        WanModel swappedModel = WanModel.load(config, new WanWeights(w, "tiny"));
        swappedModel.setGradientCheckpointing(checkpointing);
        List<int[]> moves = new ArrayList<>();
        int resident = config.numLayers() - swapped;
        BlockSwap[] swap = new BlockSwap[1];
        LateCopies lateCopies = new LateCopies();
        BlockSwap.Listener listener = (evict, fetch) -> {
            moves.add(new int[] {evict, fetch});
            assertEquals(resident, swap[0].resident().size(), "resident blocks after a move");
        };
        swap[0] = late ? BlockSwap.install(swappedModel, device, swapped, listener, lateCopies)
                : BlockSwap.install(swappedModel, device, swapped, listener);
        assertEquals(swap[0].schedule().residentAtStart(), swap[0].resident());
        assertEquals(device, swappedModel.device(), "what is loaded is on the device");

        Step want = step(plain, latent, context);
        for (int round = 0; round < 2; round++) {
            moves.clear();
            Step got = step(swappedModel, latent, context);
            assertArrayEquals(want.out(), got.out(), "output, round " + round);
            assertArrayEquals(want.dLatent(), got.dLatent(), "latent gradient, round " + round);
            assertArrayEquals(want.dContext(), got.dContext(), "context gradient, round " + round);
            assertEquals(expectedMoves(swap[0].schedule()), describe(moves), "moves of one step, round " + round);
            assertEquals(swap[0].schedule().residentAtStart(), swap[0].resident(), "a step ends where it started");
        }

        // inference (no graph) leaves the last blocks resident; the next training step starts by moving back
        WanInputs in = WanInputs.of(latent, Tensor.of(new float[] {500f}, 1), context);
        assertArrayEquals(plain.forward(in).toFloatArray(), swappedModel.forward(in).toFloatArray(), "forward without graph");
        assertEquals(lastBlocks(config.numLayers(), resident), swap[0].resident());
        // skip-layer guidance leaves block 1 out: the swap still moves past it
        WanInputs skip = in.withSkippedBlocks(List.of(1));
        assertArrayEquals(plain.forward(skip).toFloatArray(), swappedModel.forward(skip).toFloatArray(), "forward skipping block 1");
        assertArrayEquals(want.dLatent(), step(swappedModel, latent, context).dLatent(), "training step after inference");
        if (late) {
            assertTrue(lateCopies.fences > 0, "the swap copied through the given stream");
            assertEquals(lateCopies.fences, lateCopies.awaited, "every copy was waited for");
        }
    }

    @Test
    void anEvictedBlockCannotRunUnnoticed() throws IOException {
        WanModel model = WanModel.load(WanPresets.TINY, new WanWeights(weights(), "tiny"));
        BlockSwap.install(model, Device.CPU, 3, BlockSwap.Listener.NONE);
        try (GradMode.Scope off = GradMode.noGrad(); MemoryScope s = MemoryScope.open()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> model.blocks().get(2).forwardRecomputed(Var.constant(Tensor.zeros(DType.F32, 4, 64)),
                            Var.constant(Tensor.zeros(DType.F32, 1, 6, 64)),
                            Var.constant(Tensor.zeros(DType.F32, 8, 64)), null, null));
            assertTrue(e.getMessage().contains("never loaded"), e.getMessage());
        }
    }

    private static List<String> expectedMoves(BlockSwapSchedule s) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < s.blocks(); i++) {
            s.afterForward(i).ifPresent(m -> out.add(m.evict() + "->" + m.fetch()));
        }
        for (int i = s.blocks() - 1; i >= 0; i--) {
            s.afterBackward(i).ifPresent(m -> out.add(m.evict() + "->" + m.fetch()));
        }
        return out;
    }

    private static List<String> describe(List<int[]> moves) {
        return moves.stream().map(m -> m[0] + "->" + m[1]).toList();
    }

    private static List<Integer> lastBlocks(int n, int r) {
        List<Integer> out = new ArrayList<>();
        for (int i = n - r; i < n; i++) {
            out.add(i);
        }
        return out;
    }
}
