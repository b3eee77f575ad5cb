package dev.loraid.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchMainTest {
    @Test
    void benchmarkNamesAreUnique() {
        Set<String> names = new HashSet<>();
        for (BenchCommand c : BenchMain.commands()) {
            assertTrue(names.add(c.name()), "duplicate benchmark " + c.name());
        }
        assertTrue(names.contains("gemm") && names.contains("attention"));
    }

    @Test
    void trainStepIsRegistered() {
        assertTrue(BenchMain.commands().stream().anyMatch(c -> c.name().equals("train-step")));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err);
        PrintStream out = new PrintStream(new ByteArrayOutputStream());
        // options are checked before any weight is drawn
        assertEquals(2, BenchMain.run(new String[] {"train-step", "--no-torch", "--bogus"}, out, e));
    }

    @Test
    void generateIsRegistered() {
        assertTrue(BenchMain.commands().stream().anyMatch(c -> c.name().equals("generate")));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err);
        PrintStream out = new PrintStream(new ByteArrayOutputStream());
        // options are checked before any weight is drawn
        assertEquals(2, BenchMain.run(new String[] {"generate", "--no-torch", "--bogus"}, out, e));
        assertEquals(2, BenchMain.run(new String[] {"generate", "--no-torch", "--steps", "x"}, out, e));
    }

    @Test
    void vaeEncodeAndUmt5AreRegistered() {
        assertTrue(BenchMain.commands().stream().anyMatch(c -> c.name().equals("vae-encode")));
        assertTrue(BenchMain.commands().stream().anyMatch(c -> c.name().equals("umt5")));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err);
        PrintStream out = new PrintStream(new ByteArrayOutputStream());
        // options are checked before any weight is drawn
        assertEquals(2, BenchMain.run(new String[] {"vae-encode", "--no-torch", "--height", "12"}, out, e));
        assertEquals(2, BenchMain.run(new String[] {"umt5", "--no-torch", "--bogus"}, out, e));
        assertTrue(BenchMain.commands().stream().anyMatch(c -> c.name().equals("clip")));
        assertEquals(2, BenchMain.run(new String[] {"clip", "--no-torch", "--layers", "1"}, out, e));
        e.flush();
        assertTrue(err.toString().contains("multiples of 8"), err.toString());
        assertTrue(err.toString().contains("--layers must be ≥ 2"), err.toString());
    }

    @Test
    void unknownBenchmarkAndBadOptionsAreUsageErrors() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err);
        PrintStream out = new PrintStream(new ByteArrayOutputStream());
        assertEquals(2, BenchMain.run(new String[] {"nope"}, out, e));
        assertEquals(2, BenchMain.run(new String[] {"gemm", "--no-torch", "--runs", "x"}, out, e));
        e.flush();
        assertTrue(err.toString().contains("--runs expects a non-negative integer, got 'x'"), err.toString());
    }
}
