package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.quant.Fp8Load;
import dev.loraid.wan.swap.BlockSwap;
import dev.loraid.wan.swap.HostWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The frozen DiT(s) a run trains through (training.md §1.7): one model, or the two experts of Wan 2.2 A14B. With two,
 * one LoRA network's adapters are attached to both models (the same parameter objects), each batch goes to the expert
 * its timesteps belong to (high-noise while timestep/1000 ≥ boundary, upstream comparing the +1-offset timestep), and
 * with {@code --offload_inactive_dit} the expert not in use is moved to the host before the other is moved to the
 * device, so only one is resident there; its frozen weights go back to the host tensors they were loaded from
 * ({@link HostWeights}), so a switch copies one expert host → device and nothing device → host.
 */
public final class TrainModels implements AutoCloseable {
    private final List<WanCheckpoint> checkpoints;
    private final WanModel low;
    private final WanModel high;
    private final double boundary;
    private final Device device;
    private final boolean offload;
    /** With offload: each expert's frozen weights' host tensors, recorded before either went to the device. */
    private final HostWeights lowHost;
    private final HostWeights highHost;
    private WanModel active;

    private TrainModels(List<WanCheckpoint> checkpoints, WanModel low, WanModel high, double boundary, Device device,
            boolean offload) {
        this.checkpoints = checkpoints;
        this.low = low;
        this.high = high;
        this.boundary = boundary;
        this.device = device;
        this.offload = offload;
        this.lowHost = offload ? HostWeights.of(low) : null;
        this.highHost = offload ? HostWeights.of(high) : null;
        this.active = low;
    }

    /** Two experts as loaded (on the host): the low-noise one moved to {@code device}, the other too unless offloading. */
    private static TrainModels placed(List<WanCheckpoint> checkpoints, WanModel low, WanModel high, double boundary,
            Device device, boolean offload) {
        TrainModels models = new TrainModels(checkpoints, low, high, boundary, device, offload);
        low.to(device);
        if (!offload) {
            high.to(device);
        }
        return models;
    }

    public static TrainModels open(TrainConfig c, Reporter reporter) {
        List<WanCheckpoint> opened = new ArrayList<>();
        try {
            WanCheckpoint lowCk = open(c.dit(), c.task(), c.fp8(), "TrainConfig.dit", c.baseWeights(), reporter);
            opened.add(lowCk);
            if (c.ditHighNoise() == null) {
                WanModel model = lowCk.model();
                // with block swap the weights stay in host memory: swapBlocks moves what is resident
                if (c.blocksToSwap() == 0) {
                    model.to(c.device());
                }
                return new TrainModels(opened, model, null, Double.NaN, c.device(), false);
            }
            if (c.blocksToSwap() > 0) {
                throw new LoraidException(named(param("TrainConfig.blocksToSwap"), " with two experts (",
                        param("TrainConfig.ditHighNoise"), ") is not supported yet"));
            }
            WanCheckpoint highCk = open(c.ditHighNoise(), c.task(), c.fp8(), "TrainConfig.ditHighNoise", BaseWeights.NONE,
                    reporter);
            opened.add(highCk);
            if (!highCk.config().equals(lowCk.config())) {
                throw new LoraidException(named(param("TrainConfig.ditHighNoise"), " " + c.ditHighNoise() + " is a "
                        + highCk.describe() + " but ", param("TrainConfig.dit"), " "
                        + c.dit() + " is a " + lowCk.describe() + ": the two experts must share one config"));
            }
            double boundary = boundary(c, reporter);
            reporter.info(String.format(java.util.Locale.ROOT, "two experts: high-noise while timestep/1000 ≥ %.3f%s", boundary,
                    c.offloadInactiveDit() ? ", the inactive one kept off " + c.device() : ""));
            // the inactive expert starts off the device when offloading: only the low-noise one is moved there now
            return placed(opened, lowCk.model(), highCk.model(), boundary, c.device(), c.offloadInactiveDit());
        } catch (IOException e) {
            opened.forEach(WanCheckpoint::close);
            throw new LoraidException(e.getMessage(), e);
        } catch (RuntimeException e) {
            opened.forEach(WanCheckpoint::close);
            throw e;
        }
    }

    /** One model built elsewhere (its checkpoint is the caller's to close), e.g. to measure a {@link ValidationLoss}. */
    public static TrainModels of(WanModel model) {
        return new TrainModels(List.of(), model, null, Double.NaN, model.device(), false);
    }

    /**
     * Two experts built elsewhere (e.g. from random weights, for a benchmark) and placed as {@link #open} places them:
     * {@code low} moved to {@code device}, {@code high} too unless {@code offload}. Offloading re-adopts the weights each
     * expert holds on the host now ({@link HostWeights}); an expert given already on the device is copied back instead.
     */
    public static TrainModels of(WanModel low, WanModel high, double boundary, Device device, boolean offload) {
        return placed(List.of(), low, high, boundary, device, offload);
    }

    /** The checkpoint, {@code base}'s LoRAs merged into its weights as they load (before any fp8 quantisation). */
    private static WanCheckpoint open(Path path, String task, Fp8Load fp8, String parameter, BaseWeights base, Reporter reporter)
            throws IOException {
        try (LoraFiles.Opened loras = base.isEmpty() ? null : new LoraFiles.Opened()) {
            BiFunction<String, Tensor, Tensor> atLoad = loras == null ? null : base.atLoad(loras, WanCheckpoint.keys(path), reporter);
            return WanCheckpoint.open(path, task == null ? null : WanPresets.get(task).config(), fp8, atLoad);
        } catch (IllegalArgumentException e) {
            throw new LoraidException(named(param(parameter), " " + path + ": " + e.getMessage()), e);
        }
    }

    /** {@code --timestep_boundary} (values above 1 read on the 0..1000 scale), else the task's default. */
    private static double boundary(TrainConfig c, Reporter reporter) {
        if (c.timestepBoundary() != null) {
            double b = c.timestepBoundary();
            return b > 1 ? b / 1000.0 : b;
        }
        if (c.task() != null) {
            WanVariant v = WanPresets.get(c.task());
            if (v.hasExperts()) {
                return v.boundary();
            }
        }
        throw new LoraidException(named("two experts need a boundary: give ", param("TrainConfig.timestepBoundary"),
                " (e.g. 875) or ", param("TrainConfig.task"), " t2v-A14B / i2v-A14B"));
    }

    /**
     * {@code --blocks_to_swap N} (training.md §3.5) on the one model, loaded in host memory by {@link #open}: everything
     * but the blocks moves to the device, and N blocks' weights stay on the host, streamed in around each block.
     * Call it after the LoRA network is attached and moved to the device.
     */
    public BlockSwap swapBlocks(int blocksToSwap) {
        try {
            return BlockSwap.install(low, device, blocksToSwap, BlockSwap.Listener.NONE);
        } catch (IllegalArgumentException e) {
            throw new LoraidException(named(param("TrainConfig.blocksToSwap"), ": " + e.getMessage()), e);
        }
    }

    /** The model the network is built on (--dit; the low-noise expert with two). */
    public WanModel primary() {
        return low;
    }

    /** Every model, for settings that apply to all (checkpointing, attaching the network). */
    public List<WanModel> all() {
        return high == null ? List.of(low) : List.of(low, high);
    }

    public boolean dual() {
        return high != null;
    }

    /** The switch point on the 0..1 scale (NaN with one model). */
    public double boundary() {
        return boundary;
    }

    public WanConfig config() {
        return low.config();
    }

    /** Whether model timestep {@code timestep} (0..1000 scale) belongs to the high-noise expert. */
    public boolean isHigh(double timestep) {
        return dual() && timestep / 1000.0 >= boundary;
    }

    /** The model for a batch whose timesteps are on the given side, made resident on the device if offloading. */
    public WanModel model(boolean highNoise) {
        WanModel want = highNoise && dual() ? high : low;
        if (want != active && offload) {
            (active == low ? lowHost : highHost).moveToHost(active);
            want.to(device);
        }
        active = want;
        return want;
    }

    @Override
    public void close() {
        checkpoints.forEach(WanCheckpoint::close);
    }
}
