package dev.loraid.core.demo;

import dev.loraid.tensor.json.JsonWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The demo's interference table: as text (what the CLI prints) and as {@code table.json}. */
public final class DemoTable {
    private DemoTable() {
    }

    /**
     * One line per method and prompt: each character's presence (starred when the prompt names it), recognised and
     * leak ({@link CharacterDetector}), then one summary line per method.
     */
    public static List<String> format(List<LoraidDemo.Row> rows) {
        List<String> lines = new ArrayList<>();
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-16s %-24s", "method", "prompt"));
        for (DemoScenes.Look c : DemoScenes.CHARACTERS) {
            head.append(String.format(Locale.ROOT, " %6s", c.phrase()));
        }
        head.append("  recognised   leak");
        lines.add(head.toString());
        String method = null;
        for (LoraidDemo.Row r : rows) {
            if (method != null && !method.equals(r.method())) {
                lines.add("");
            }
            method = r.method();
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-16s %-24s", r.method(), r.prompt()));
            for (int c = 0; c < r.presence().length; c++) {
                sb.append(String.format(Locale.ROOT, " %5.2f%s", r.presence()[c], r.requested().contains(c) ? "*" : " "));
            }
            sb.append(String.format(Locale.ROOT, "  %10.2f %6s", r.recognised(), Double.isNaN(r.leak()) ? "—"
                    : String.format(Locale.ROOT, "%.2f", r.leak())));
            lines.add(sb.toString());
        }
        lines.add("");
        for (String m : LoraidDemo.METHODS) {
            List<LoraidDemo.Row> of = rows.stream().filter(r -> r.method().equals(m)).toList();
            double rec = of.stream().mapToDouble(LoraidDemo.Row::recognised).average().orElse(Double.NaN);
            double leak = of.stream().filter(r -> !Double.isNaN(r.leak())).mapToDouble(LoraidDemo.Row::leak).average()
                    .orElse(Double.NaN);
            lines.add(String.format(Locale.ROOT, "%-16s mean over prompts: recognised %.2f, leak %.2f", m, rec, leak));
        }
        return lines;
    }

    static void writeJson(Path file, LoraidDemo.Options o, List<LoraidDemo.Row> rows, CharacterDetector detector,
            List<DemoInterference.Row> interference) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("command", "loraid demo" + (o.quick() ? " --quick" : ""));
        root.put("seeds", o.seeds());
        root.put("sample_steps", (long) o.sampleSteps());
        root.put("epochs", (long) o.epochs());
        root.put("pictures_per_character", (long) o.pictures());
        root.put("detector", "presence = pixels within RGB distance " + CharacterDetector.MAX_DISTANCE + " of a character's "
                + "colour (nearest palette colour) / mean pixels of one instance in its training pictures; recognised = mean "
                + "over named characters of min(1, presence); leak = sum of presences of characters the prompt does not name");
        List<Object> chars = new ArrayList<>();
        double[] ref = detector.reference();
        for (int c = 0; c < DemoScenes.CHARACTERS.size(); c++) {
            DemoScenes.Look l = DemoScenes.CHARACTERS.get(c);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("word", l.phrase());
            m.put("loraid", (long) c + 1);
            m.put("look", l.colour().word() + " " + l.shape().name().toLowerCase(Locale.ROOT).replace('_', ' '));
            m.put("reference_pixels", ref[c]);
            chars.add(m);
        }
        root.put("characters", chars);
        List<Object> out = new ArrayList<>();
        for (LoraidDemo.Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", r.method());
            m.put("prompt", r.prompt());
            Map<String, Object> presence = new LinkedHashMap<>();
            for (int c = 0; c < r.presence().length; c++) {
                presence.put(DemoScenes.CHARACTERS.get(c).phrase(), r.presence()[c]);
            }
            m.put("presence", presence);
            m.put("recognised", r.recognised());
            m.put("leak", Double.isNaN(r.leak()) ? null : r.leak());
            out.add(m);
        }
        root.put("rows", out);
        root.put("interference_measure", "validation flow-matching loss (sigma 0.125, 0.375, 0.625, 0.875, fixed noise) on "
                + LoraidDemo.HELD_OUT_PICTURES + " held-out pictures of each character: base, base + its LoRA alone, base + "
                + "all three; gain_kept = (base - all_three) / (base - alone)");
        List<Object> inter = new ArrayList<>();
        for (DemoInterference.Row r : interference) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", r.method());
            m.put("character", r.character());
            m.put("base", r.base());
            m.put("alone", r.alone());
            m.put("all_three", r.combined());
            m.put("gain_kept", r.kept());
            inter.add(m);
        }
        root.put("interference", inter);
        Files.writeString(file, JsonWriter.pretty(root) + "\n");
    }
}
