package dev.loraid.core.demo;

import dev.loraid.core.Reporter;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.generate.Generator;
import dev.loraid.core.generate.LoraSelection;
import dev.loraid.core.generate.TextEncoder;
import dev.loraid.tensor.Device;
import dev.loraid.wan.sample.SolverKind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Samples demo pictures through {@link Generator#run}: the DiT file, LoRA / LORAID files attached as adapters, the
 * prompt through the demo's UMT5, the empty prompt as the negative, unipc, the task's shift and guidance.
 */
final class DemoSampler {
    private final TextEncoder text;
    private final int steps;
    private final Device device;

    DemoSampler(TextEncoder text, int steps, Device device) {
        this.text = text;
        this.steps = steps;
        this.device = device;
    }

    /** One picture of {@code prompt} from {@code dit} with {@code loras} (LORAIDs when {@code loraids} is given). */
    Picture sample(Path dit, List<Path> loras, Optional<List<Integer>> loraids, String prompt, long seed) throws IOException {
        GenerateRequest req = GenerateRequest.withTaskDefaults(DemoModel.TASK, dit, null, seed, text.encode(prompt), text.encode(""))
                .withSize(DemoScenes.SIZE, DemoScenes.SIZE, 1)
                .withSampling(SolverKind.UNIPC, steps, DemoModel.TASK.sampleShift(), DemoModel.TASK.guidanceLow())
                .withDevice(device)
                .withLoras(new LoraSelection(loras, List.of(), loraids, null, false), LoraSelection.NONE);
        return PatchLatents.decode(Generator.run(req, Reporter.SILENT).latent(), 0);
    }
}
