package dev.loraid.core.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
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
        CollectingReporter r = new CollectingReporter();
        assertEquals(List.of(1, 2), LoraidArgs.loraids(List.of("1", "1", "2"), 1, r));
        assertTrue(r.warned("duplicate LORAID 1 ignored"), r.warnings.toString());
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
    void t16_multiplier_rules() {
        assertArrayEquals(new double[] {1, 1, 1}, LoraidArgs.multipliers(List.of(), 3));
        assertArrayEquals(new double[] {0.5, 0.5, 0.5}, LoraidArgs.multipliers(List.of("0.5"), 3));
        assertArrayEquals(new double[] {1, 0.7, 0.3}, LoraidArgs.multipliers(List.of("1", "0.7", "0.3"), 3));
        LoraidException few = assertThrows(LoraidException.class, () -> LoraidArgs.multipliers(List.of("1", "0.5"), 3));
        assertTrue(few.getMessage().contains("got 2 multipliers for 3 LoRAs"), few.getMessage());
        assertThrows(LoraidException.class, () -> LoraidArgs.multipliers(List.of("1", "1", "1", "1"), 3));
        // repeated flags: --lora_multiplier 1.0 --lora_multiplier 0.5 --lora_multiplier 0.2
        assertArrayEquals(new double[] {1.0, 0.5, 0.2}, LoraidArgs.multipliers(List.of("1.0", "0.5", "0.2"), 3));
        assertArrayEquals(new double[] {-0.5, 2}, LoraidArgs.multipliers(List.of("-0.5", "2"), 2));
        assertThrows(LoraidException.class, () -> LoraidArgs.multipliers(List.of("NaN"), 1));
        assertThrows(LoraidException.class, () -> LoraidArgs.multipliers(List.of("Infinity"), 1));
    }
}
