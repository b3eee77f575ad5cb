package dev.loraid.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --sample_prompts files in the three formats of training.md §6.1, with upstream's defaults and roundings. */
class SamplePromptsTest {

    @Test
    void text_lines_carry_inline_options_and_defaults_fill_the_rest(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("p.txt");
        Files.writeString(f, "# a comment\n\na red ball --w 100 --H 61 --f 7 --d 42 --s 2000 --fs 3.0 --l 4.5 --n blurry, dark\n"
                + "a blue cube\n");
        List<SamplePrompt> p = SamplePrompts.read(f);
        assertEquals(2, p.size());
        SamplePrompt a = p.get(0);
        assertEquals("a red ball", a.prompt());
        assertEquals(96, a.width()); // floored to a multiple of 8
        assertEquals(56, a.height());
        assertEquals(5, a.frameCount()); // rounded down to 4k + 1
        assertEquals(42L, a.seed());
        assertEquals(1000, a.steps()); // clamped
        assertEquals(3.0, a.flowShift());
        assertEquals(4.5, a.cfgScale());
        assertEquals("blurry, dark", a.negativePrompt());
        SamplePrompt b = p.get(1);
        assertEquals(1, b.index());
        assertEquals(256, b.width());
        assertEquals(1, b.frameCount());
        assertEquals(20, b.steps());
        assertEquals(14.5, b.flowShift());
        assertNull(b.seed());
        assertNull(b.cfgScale());
    }

    @Test
    void toml_subsets_merge_over_the_shared_table_and_json_takes_strings_or_objects(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("p.toml");
        Files.writeString(t, "[prompt]\nwidth = 128\nsample_steps = 8\n\n[[prompt.subset]]\nprompt = \"one\"\n\n"
                + "[[prompt.subset]]\nprompt = \"two\"\nwidth = 64\nseed = 7\n");
        List<SamplePrompt> p = SamplePrompts.read(t);
        assertEquals(List.of(128, 64), p.stream().map(SamplePrompt::width).toList());
        assertEquals(List.of(8, 8), p.stream().map(SamplePrompt::steps).toList());
        assertEquals(7L, p.get(1).seed());
        Path j = dir.resolve("p.json");
        Files.writeString(j, "[\"a cat --w 64\", {\"prompt\": \"a dog\", \"cfg_scale\": 2.5}]");
        List<SamplePrompt> q = SamplePrompts.read(j);
        assertEquals(64, q.get(0).width());
        assertEquals(2.5, q.get(1).cfgScale());
    }

    /** One-frame options: --of, and --ci appending as upstream's list (a JSON array in object form). */
    @Test
    void one_frame_lines_append_their_control_images(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("p.txt");
        Files.writeString(f, "a girl --i s.png --ci s.png --ci e.png --of target_index=1,control_index=0;2\na boy\n");
        List<SamplePrompt> p = SamplePrompts.read(f);
        assertEquals(List.of("s.png", "e.png"), p.get(0).controlImages());
        assertEquals("target_index=1,control_index=0;2", p.get(0).oneFrame());
        assertEquals(List.of(), p.get(1).controlImages());
        Path j = dir.resolve("p.json");
        Files.writeString(j, "[{\"prompt\": \"x\", \"control_image_path\": [\"a.png\", \"b.png\"], \"one_frame\": "
                + "\"target_index=1,control_index=0;2\"}]");
        assertEquals(List.of("a.png", "b.png"), SamplePrompts.read(j).getFirst().controlImages());
    }

    @Test
    void errors_name_the_file_line_and_option(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.txt");
        Files.writeString(f, "fine\nbroken --w wide\n");
        LoraidException e = assertThrows(LoraidException.class, () -> SamplePrompts.read(f));
        assertTrue(e.getMessage().contains("bad.txt:2") && e.getMessage().contains("width"), e.getMessage());
        Files.writeString(f, "x --zz 1\n");
        e = assertThrows(LoraidException.class, () -> SamplePrompts.read(f));
        assertTrue(e.getMessage().contains("--zz"), e.getMessage());
        Files.writeString(f, "# only a comment\n");
        assertThrows(LoraidException.class, () -> SamplePrompts.read(f));
        Path other = dir.resolve("p.yaml");
        Files.writeString(other, "x");
        assertThrows(LoraidException.class, () -> SamplePrompts.read(other));
    }
}
