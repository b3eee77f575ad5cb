package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Spec loraid.md REQ-CLI-1, -4, test cases T-14..T-16 (on the tokens the CLI collects). */
class LoraidArgsTest {

    @Test
    void t14_cli_loraid_forms() {
        assertEquals(List.of(3, 1, 2), LoraidArgs.loraids(List.of("3", "1", "2"), 0, Reporter.SILENT));
        // --LORAID 1 --LORAID 2 3 arrives as the occurrences' values in order
        assertEquals(List.of(1, 2, 3), LoraidArgs.loraids(List.of("1", "2", "3"), 0, Reporter.SILENT));
        assertEquals(List.of(1, 2), LoraidArgs.loraids(List.of("1,2"), 0, Reporter.SILENT));
        List<String> warnings = new ArrayList<>();
        Reporter r = new Reporter() {
            @Override
            public void info(String message) {
            }

            @Override
            public void warn(String message) {
                warnings.add(message);
            }
        };
        assertEquals(List.of(1, 2), LoraidArgs.loraids(List.of("1", "1", "2"), 1, r));
        assertEquals(List.of("duplicate LORAID 1 ignored"), warnings);
        assertEquals(List.of(), LoraidArgs.loraids(List.of(), 0, Reporter.SILENT));
        LoraidException e = assertThrows(LoraidException.class, () -> LoraidArgs.loraids(List.of("1", "x"), 0, Reporter.SILENT));
        assertTrue(e.getMessage().contains("invalid LORAID value 'x'"), e.getMessage());
    }

    @Test
    void t15_cli_dup_with_multipliers() {
        LoraidException e = assertThrows(LoraidException.class, () -> LoraidArgs.loraids(List.of("1", "1", "2"), 3, Reporter.SILENT));
        assertTrue(e.getMessage().contains("ambiguous"), e.getMessage());
    }

    @Test
    void training_takes_one_loraid() {
        assertEquals(2, LoraidArgs.trainingLoraid(List.of(2)).getAsInt());
        assertTrue(LoraidArgs.trainingLoraid(List.of()).isEmpty());
        LoraidException e = assertThrows(LoraidException.class, () -> LoraidArgs.trainingLoraid(List.of(1, 2)));
        assertTrue(e.getMessage().contains("training accepts a single LORAID; got [1, 2]"), e.getMessage());
    }

    @Test
    void t16_multiplier_values() {
        assertEquals(List.of(), LoraidArgs.multipliers(List.of()));
        // repeated flags (--lora_multiplier 1.0 --lora_multiplier 0.5) and comma lists read alike
        assertEquals(List.of(1.0, 0.5, 0.2), LoraidArgs.multipliers(List.of("1.0", "0.5", "0.2")));
        assertEquals(List.of(1.0, 0.5, 0.2), LoraidArgs.multipliers(List.of("1.0,0.5", "0.2")));
        assertEquals(List.of(-0.5, 2.0), LoraidArgs.multipliers(List.of("-0.5", "2")));
        LoraidException word = assertThrows(LoraidException.class, () -> LoraidArgs.multipliers(List.of("x")));
        assertTrue(word.getMessage().contains("invalid --lora_multiplier value 'x'"), word.getMessage());
        assertThrows(LoraidException.class, () -> LoraidArgs.multipliers(List.of("NaN")));
        assertThrows(LoraidException.class, () -> LoraidArgs.multipliers(List.of("Infinity")));
    }
}
