package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.ParameterException;
import dev.loraid.core.ema.EmaRequest;
import dev.loraid.core.train.TimestepConfig;
import dev.loraid.core.train.TimestepSampling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.cli.Option;
import org.junit.jupiter.api.Test;

/** The library names parameters in API words; the CLI shows each as its flag (issue 12). */
class CliFlagsTest {
    @Test
    void aLibraryErrorReadsInApiWordsAndTheCliShowsTheFlags() {
        ParameterException e = assertThrows(ParameterException.class,
                () -> TimestepConfig.of(TimestepSampling.SIGMA).withRange(500, 500, false));
        assertEquals("TimestepConfig.minTimestep 500 must be smaller than TimestepConfig.maxTimestep 500", e.getMessage());
        assertEquals("--min_timestep 500 must be smaller than --max_timestep 500", CliFlags.message(e));
        assertEquals("--output_file_lora3", CliFlags.flag(EmaRequest.seriesOutput(3)));
        assertEquals("--lora12", CliFlags.flag(EmaRequest.series(12)));
        assertEquals("--sample_every_n_steps", CliFlags.flag("SampleConfig.everyNSteps"));
        assertEquals("--gradient_accumulation_steps", CliFlags.flag("TrainConfig.gradientAccumulationSteps"));
    }

    /** Every parameter core names in a message ({@code "Record.component"}) is shown as a flag some command accepts. */
    @Test
    void everyParameterCoreNamesIsAFlagOfTheCli() throws IOException {
        Set<String> flags = new TreeSet<>();
        for (Command c : Main.commands()) {
            if (c instanceof OptionsCommand oc) {
                for (Option o : oc.options().getOptions()) {
                    flags.add("--" + o.getLongOpt());
                }
            }
        }
        Pattern param = Pattern.compile("\"([A-Z][A-Za-z]*(?:\\.[A-Z][A-Za-z]*)?\\.[a-z][A-Za-z0-9]*)\"");
        Set<String> named = new TreeSet<>();
        for (Path f : SourceRulesTest.mainSources()) {
            String text = Files.readString(f);
            if (f.toString().contains("/core/src/main/java/") && text.matches("(?s).*(ParameterText|ParameterException).*")) {
                for (Matcher m = param.matcher(text); m.find(); ) {
                    named.add(m.group(1));
                }
            }
        }
        assertTrue(named.size() > 40, "parameters named in core: " + named);
        named.add(EmaRequest.series(20));
        named.add(EmaRequest.seriesOutput(20));
        named.remove(EmaRequest.SERIES); // "--loraN" in a message stands for the numbered flags
        named.remove(EmaRequest.SERIES_OUTPUTS);
        List<String> unknown = new ArrayList<>();
        for (String api : named) {
            for (String flag : CliFlags.flag(api).split(" and ")) {
                if (!flags.contains(flag)) {
                    unknown.add(api + " -> " + flag);
                }
            }
        }
        assertEquals(List.of(), unknown, "parameters whose flag no command has");
    }
}
