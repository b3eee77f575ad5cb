package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.demo.DemoScenes;
import dev.loraid.core.demo.LoraidDemo;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loraid demo --quick} end to end: every output, and LORAIDs that only touch their own blocks. */
class DemoCommandTest {
    private static final Pattern BLOCK = Pattern.compile("blocks_(\\d+)_");

    @TempDir
    Path dir;

    @Test
    void quickDemoTrainsCombinesDrawsAndScores() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            rc = Main.run(new String[] {"demo", "--quick", "--out", dir.toString()}, o, e);
        }
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8) + stdout);
        for (String stage : List.of("[1/7", "[2/7", "[3/7", "[4/7", "[5/7", "[6/7", "[7/7")) {
            assertTrue(stdout.contains(stage), "stage line " + stage + " in:\n" + stdout);
        }
        assertTrue(stdout.contains("3 LORAIDs") && stdout.contains("3 LoRAs merged") && stdout.contains("recognised"), stdout);

        java.awt.image.BufferedImage grid = ImageIO.read(dir.resolve("grid.png").toFile());
        int cell = DemoScenes.SIZE * 2 + 4;
        assertEquals(150 + LoraidDemo.PROMPTS.size() * cell, grid.getWidth(), "one column per prompt (2x), after the labels");
        assertEquals(18 + LoraidDemo.METHODS.size() * cell, grid.getHeight(), "one row per method");
        byte[] gif = Files.readAllBytes(dir.resolve("animation.gif"));
        assertEquals("GIF89a", new String(gif, 0, 6, StandardCharsets.US_ASCII));
        String table = Files.readString(dir.resolve("table.json"));
        assertTrue(table.contains("\"rows\"") && table.contains("\"3 LORAIDs\"") && table.contains("\"zorp and blix and quen\""),
                table);
        // the interference table: per method and character the validation losses, the base's the same for both methods
        // (the same held-out pictures and noise through the same model), the kept share their stated arithmetic
        @SuppressWarnings("unchecked")
        List<java.util.Map<String, Object>> inter = (List<java.util.Map<String, Object>>) dev.loraid.tensor.json.Json.parseObject(table)
                .get("interference");
        assertEquals(6, inter.size(), table);
        for (int c = 0; c < 3; c++) {
            java.util.Map<String, Object> merged = inter.get(c);
            java.util.Map<String, Object> loraid = inter.get(3 + c);
            assertEquals(List.of("3 LoRAs merged", "3 LORAIDs"), List.of(merged.get("method"), loraid.get("method")));
            assertEquals(merged.get("character"), loraid.get("character"));
            assertEquals(merged.get("base"), loraid.get("base"));
            for (java.util.Map<String, Object> r : List.of(merged, loraid)) {
                double base = ((Number) r.get("base")).doubleValue();
                double alone = ((Number) r.get("alone")).doubleValue();
                double all = ((Number) r.get("all_three")).doubleValue();
                assertTrue(alone != base && all != alone, r.toString());
                assertEquals((base - all) / (base - alone), ((Number) r.get("gain_kept")).doubleValue(), 1e-12, r.toString());
            }
        }
        assertTrue(stdout.contains("gain kept when combined, over the three"), stdout);

        String[] names = {"zorp", "blix", "quen"};
        for (int id = 1; id <= 3; id++) {
            Path loraid = dir.resolve("loras/loraid/" + names[id - 1] + "-ema.safetensors");
            try (SafetensorsFile f = SafetensorsFile.open(loraid)) {
                Map<String, String> meta = f.metadata();
                assertEquals(Integer.toString(id), meta.get("ss_loraid"), loraid + " " + meta);
                assertEquals("2", meta.get("ss_loraid_blocks_per_loraid"), loraid + " " + meta);
                assertEquals(Integer.toString(2 * (id - 1)), meta.get("ss_loraid_block_start"), loraid + " " + meta);
                assertEquals(Integer.toString(2 * id - 1), meta.get("ss_loraid_block_end"), loraid + " " + meta);
                assertTrue(f.names().size() > 0);
                for (String key : f.names()) {
                    Matcher m = BLOCK.matcher(key);
                    assertTrue(m.find(), key + " of " + loraid + " is not a block module");
                    int b = Integer.parseInt(m.group(1));
                    assertTrue(b >= 2 * (id - 1) && b < 2 * id, key + " of LORAID " + id + " is outside blocks "
                            + 2 * (id - 1) + "–" + (2 * id - 1));
                }
            }
            Path ordinary = dir.resolve("loras/ordinary/" + names[id - 1] + "-ema.safetensors");
            try (SafetensorsFile f = SafetensorsFile.open(ordinary)) {
                assertEquals(null, f.metadata().get("ss_loraid"), ordinary.toString());
                assertTrue(f.names().stream().anyMatch(k -> k.contains("blocks_0_")) && f.names().stream().anyMatch(k -> k.contains("blocks_5_")),
                        ordinary + " covers every block");
            }
        }
    }
}
