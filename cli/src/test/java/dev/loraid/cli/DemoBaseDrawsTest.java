package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.Reporter;
import dev.loraid.core.demo.CharacterDetector;
import dev.loraid.core.demo.DemoModel;
import dev.loraid.core.demo.DemoScenes;
import dev.loraid.core.demo.DemoText;
import dev.loraid.core.demo.PatchLatents;
import dev.loraid.core.demo.Picture;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.generate.Generator;
import dev.loraid.core.generate.Umt5TextEncoder;
import dev.loraid.tensor.Device;
import dev.loraid.wan.sample.SolverKind;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped demo base draws what a prompt asks for, on a clean background: sampled as the demo samples (unipc,
 * the task's steps, shift and guidance), every pixel is given to the nearest of the background and the four base
 * colours (or to none when none is within RGB distance 0.3), as the demo's {@link CharacterDetector} classifies them. A seeded random DiT, or a sampler that leaves noise
 * behind, fails these.
 */
class DemoBaseDrawsTest {
    @TempDir
    Path dir;

    @Test
    void eachBaseColourPromptDrawsThatColourOnTheBackground() throws Exception {
        Path base = dir.resolve("base.safetensors");
        try (InputStream in = DemoCommand.class.getResourceAsStream("demo/" + DemoCommand.BASE_RESOURCE)) {
            Files.copy(in, base);
        }
        List<DemoScenes.Colour> colours = DemoScenes.BASE_COLOURS;
        try (Umt5TextEncoder text = Umt5TextEncoder.open(DemoText.writeEncoder(dir), DemoText.writeTokenizer(dir),
                DemoModel.CONFIG.textLen(), Device.CPU)) {
            for (int c = 0; c < colours.size(); c++) {
                for (long seed = 1; seed <= 2; seed++) {
                    String prompt = "a " + colours.get(c).word() + " circle";
                    GenerateRequest req = GenerateRequest.withTaskDefaults(DemoModel.TASK, base, null, seed, text.encode(prompt),
                                    text.encode(""))
                            .withSize(DemoScenes.SIZE, DemoScenes.SIZE, 1)
                            .withSampling(SolverKind.UNIPC, DemoModel.TASK.sampleSteps(), DemoModel.TASK.sampleShift(),
                                    DemoModel.TASK.guidanceLow());
                    int[] n = nearestCounts(PatchLatents.decode(Generator.run(req, Reporter.SILENT).latent(), 0));
                    int pixels = DemoScenes.SIZE * DemoScenes.SIZE;
                    String what = "'" + prompt + "', seed " + seed + ": pixels per background, red, green, blue, yellow, none "
                            + Arrays.toString(n);
                    assertTrue(n[0] >= pixels / 2, "background covers half the picture: " + what);
                    assertTrue(n[1 + c] >= 100, "at least 100 pixels of the prompted colour (a circle has 317): " + what);
                    for (int other = 0; other < colours.size(); other++) {
                        if (other != c) {
                            assertTrue(n[1 + c] >= 3 * n[1 + other], "the prompted colour outnumbers each other one 3:1: " + what);
                        }
                    }
                }
            }
        }
    }

    /** Pixels nearest the background, then each base colour in order, then none (the demo detector's classification). */
    private static int[] nearestCounts(Picture p) {
        List<float[]> palette = new ArrayList<>();
        palette.add(DemoScenes.background());
        DemoScenes.BASE_COLOURS.forEach(c -> palette.add(c.rgb()));
        return CharacterDetector.nearestCounts(p, palette);
    }
}
