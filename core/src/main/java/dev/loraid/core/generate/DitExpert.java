package dev.loraid.core.generate;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraApplication;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LycorisMerge;
import dev.loraid.core.lora.LoraPairing;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.quant.Fp8Load;
import dev.loraid.wan.swap.BlockSwap;
import dev.loraid.wan.swap.HostWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Collectors;

/**
 * One DiT of a generation run with its LoRAs attached as adapters, opened, put on the device, moved to the host and
 * closed as the run's {@link ExpertResidency} asks (training.md §6.5). Reports each load and release as an info line.
 */
final class DitExpert implements AutoCloseable {
    private final String name;
    private final Path dit;
    private final LoraSelection loras;
    private final WanVariant task;
    private final Device device;
    private final Fp8Load fp8;
    private final int blocksToSwap;
    private final DType activations;
    private final String metaPrefix;
    private final Reporter reporter;
    private final Map<String, String> loraMeta = new LinkedHashMap<>();
    private WanCheckpoint checkpoint;
    private WanModel model;
    private HostWeights hostWeights;
    private LoraApplication app;
    private boolean onDevice;

    /**
     * @param name       how messages call it ("high-noise DiT")
     * @param metaPrefix the metadata key prefix of its LoRAs ("lora" → lora_weight, lora_multiplier)
     */
    DitExpert(String name, Path dit, LoraSelection loras, WanVariant task, Device device, Fp8Load fp8, int blocksToSwap,
              DType activations, String metaPrefix, Reporter reporter) {
        this.name = name;
        this.dit = dit;
        this.loras = loras;
        this.task = task;
        this.device = device;
        this.fp8 = fp8;
        this.blocksToSwap = blocksToSwap;
        this.activations = activations;
        this.metaPrefix = metaPrefix;
        this.reporter = reporter;
    }

    /** The model on the device, opening the file and attaching the LoRAs first if it is closed. */
    WanModel resident() {
        if (model == null) {
            open(true);
        } else if (!onDevice) {
            reporter.info("moving the " + name + " to " + device);
            model.to(device);
            if (app != null) {
                app.moveTo(device);
            }
            onDevice = true;
        }
        return model;
    }

    /** Opens the file and attaches the LoRAs, the model on the device or (onDevice false) on the host. */
    void open(boolean toDevice) {
        if (model != null) {
            return;
        }
        reporter.info("loading the " + name + " " + dit.getFileName() + (toDevice ? " on " + device : " on the host")
                + (fp8 == Fp8Load.NONE ? "" : ", block weights in fp8 (" + fp8.name().toLowerCase(java.util.Locale.ROOT) + ")"));
        boolean lycoris = loras.lycoris() && !loras.isEmpty();
        try (LoraFiles.Opened lycorisFiles = lycoris ? new LoraFiles.Opened() : null) {
            // LyCORIS files are merged into the weights as they load, before any fp8 quantisation (as upstream)
            checkpoint = WanCheckpoint.open(dit, task.config(), fp8, lycoris ? lycorisAtLoad(lycorisFiles) : null);
        } catch (IOException | IllegalArgumentException e) {
            throw new LoraidException("the " + name + " " + dit + ": " + e.getMessage(), e);
        }
        try {
            // with a block swap the blocks stay where the file put them (host memory) and the swap moves the rest
            boolean swap = toDevice && blocksToSwap > 0;
            WanModel m = checkpoint.model();
            hostWeights = HostWeights.of(m); // the checkpoint's tensors (merged ones included): offload() adopts them again
            if (toDevice && !swap) {
                m.to(device);
            }
            if (!loras.isEmpty() && !loras.lycoris()) {
                app = LoraApplication.apply(m, loras.files(), loras.filters(), loras.loraids(), loras.multipliers(),
                        loras.blocksPerLoraid(), loras.allowOverlap(), reporter);
                loraMeta.put(metaPrefix + "_weight", app.applied().stream().map(LoraPairing.Applied::file)
                        .collect(Collectors.joining(" ")));
                loraMeta.put(metaPrefix + "_multiplier", app.applied().stream().map(a -> Double.toString(a.multiplier()))
                        .collect(Collectors.joining(" ")));
            }
            if (swap) {
                installSwap(m);
            }
            m.setActivationDType(activations);
            model = m;
            onDevice = toDevice || device.equals(Device.CPU);
        } catch (RuntimeException e) {
            checkpoint.close();
            checkpoint = null;
            throw e;
        }
    }

    /** The LyCORIS files as the transform the checkpoint's tensors load through; their names go into the metadata. */
    private BiFunction<String, Tensor, Tensor> lycorisAtLoad(LoraFiles.Opened files) throws IOException {
        List<Double> multipliers = loras.perFileMultipliers();
        BiFunction<String, Tensor, Tensor> atLoad = LycorisMerge.atLoad(files, loras.files(), multipliers, WanCheckpoint.keys(dit),
                reporter);
        loraMeta.put(metaPrefix + "_weight", loras.files().stream().map(p -> p.getFileName().toString())
                .collect(Collectors.joining(" ")));
        loraMeta.put(metaPrefix + "_multiplier", multipliers.stream().map(String::valueOf).collect(Collectors.joining(" ")));
        loraMeta.put("lycoris", "true");
        return atLoad;
    }

    /**
     * {@code blocksToSwap} blocks' weights left in host memory, the others and everything else on the device
     * (training.md §3.5; the same {@link BlockSwap} as training's, run by the model's forward passes without a graph).
     */
    private void installSwap(WanModel m) {
        if (app != null) {
            app.moveTo(device);
        }
        BlockSwap swap;
        try {
            swap = BlockSwap.install(m, device, blocksToSwap, BlockSwap.Listener.NONE);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new LoraidException(named(param("GenerateRequest.blocksToSwap"), " for the " + name + ": " + e.getMessage()), e);
        }
        reporter.info("block swap for the " + name + ": " + swap.describe(device));
    }

    /** Moves the model to the host, keeping it open (a no-op when closed, already there, or on the CPU device). */
    void offload() {
        if (model != null && onDevice && !device.equals(Device.CPU)) {
            reporter.info("moving the " + name + " to the host");
            hostWeights.moveToHost(model);
            if (app != null) {
                app.moveTo(Device.CPU);
            }
        }
        onDevice = model != null && device.equals(Device.CPU);
    }

    /** Detaches the LoRAs and closes the file; {@link #resident()} opens it again. */
    void release() {
        if (model == null) {
            return;
        }
        reporter.info("releasing the " + name);
        if (app != null) {
            app.detach();
            app = null;
        }
        model = null;
        hostWeights = null;
        onDevice = false;
        checkpoint.close();
        checkpoint = null;
    }


    /** lora_weight / lora_multiplier (with the prefix) of the attached LoRAs, once the expert has been opened. */
    Map<String, String> loraMetadata() {
        return loraMeta;
    }

    @Override
    public void close() {
        try {
            release();
        } catch (RuntimeException e) {
            throw new LoraidException("closing the " + name + " " + dit + ": " + e.getMessage(), e);
        }
    }
}
