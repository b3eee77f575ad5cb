package dev.loraid.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The JVM options file the {@code loraid} launcher starts java with (scripts/jvm.options). */
class LauncherOptionsTest {
    @Test
    void theJvmItStartsPrintsNothingOfItsOwnOnStdout() throws Exception {
        // the JIT's CompileCommands echo themselves on stdout unless `quiet` comes first, ahead of every command's
        // output (a pipe into another tool would read them first)
        CliRun child = ChildLoraid.run(List.of(), List.of("--version"));
        assertEquals(0, child.code(), child.err());
        assertEquals(CliRun.run("--version").out(), child.out());
    }
}
