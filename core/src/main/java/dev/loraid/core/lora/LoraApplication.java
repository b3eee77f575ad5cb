package dev.loraid.core.lora;

import dev.loraid.autograd.Module;
import dev.loraid.core.Reporter;
import dev.loraid.core.plan.BlockCount;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Several LoRA / LORAID files applied to a loaded model at inference, each at its multiplier, after the same
 * validation as a merge (spec loraid.md REQ-CLI-5/6; B from the model's own blocks). The files are read onto the
 * heap (the adapters copy their factors), so nothing stays mapped; {@link #detach()} restores the base model.
 */
public final class LoraApplication {
    private final List<LoraNetwork> networks;
    private final List<LoraPairing.Applied> applied;

    private LoraApplication(List<LoraNetwork> networks, List<LoraPairing.Applied> applied) {
        this.networks = networks;
        this.applied = applied;
    }

    /**
     * Same arguments as a merge ({@link LoraPairing#pair}): {@code loraids} empty when no LORAID is selected;
     * {@code filters} one key filter per file (REQ-MERGE-6), applied before the LORAID checks.
     */
    public static LoraApplication apply(Module model, List<Path> files, List<LoraKeyFilter> filters, Optional<List<Integer>> loraids,
            List<Double> multipliers, Integer blocksPerLoraid, boolean allowOverlap, Reporter reporter) {
        int blocks = BlockCount.fromWeightNames(LoraNetwork.candidates(model).keySet());
        try (LoraFiles.Opened opened = new LoraFiles.Opened()) {
            LoraInputs in = LoraInputs.load(files, opened, filters, reporter);
            List<LoraPairing.Applied> applied = LoraPairing.pair(in.candidates(), loraids, multipliers, blocks, blocksPerLoraid,
                    allowOverlap, reporter);
            List<LoraNetwork> networks = new ArrayList<>();
            try {
                for (LoraPairing.Applied a : applied) {
                    networks.add(LoraNetwork.attach(model, in.bySource(a.file()), a.multiplier()));
                }
            } catch (RuntimeException e) {
                networks.forEach(LoraNetwork::detach);
                throw e;
            }
            return new LoraApplication(networks, applied);
        }
    }

    /** The applied files in application order, with their LORAIDs, blocks and multipliers. */
    public List<LoraPairing.Applied> applied() {
        return applied;
    }

    /** Moves the adapters to {@code device}, after or before their model moves there. */
    public void moveTo(dev.loraid.tensor.Device device) {
        networks.forEach(n -> n.moveTo(device));
    }

    public void detach() {
        networks.forEach(LoraNetwork::detach);
    }
}
