package dev.loraid.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProgressBarTest {
    @Test
    void formatsBarPercentRateAndEta() {
        // 450 of 1000 in 36 s: 12.5/s, 550 left → 44 s
        assertEquals("merging  [##########..............]   45%  450/1000 tensors  12.5/s  ETA 0:00:44",
            ProgressBar.format("merging", 450, 1000, "tensors", 36));
        assertEquals("train  [........................]    0%  0/10 steps  0.00/s  ETA ?",
            ProgressBar.format("train", 0, 10, "steps", 0));
        assertEquals("train  [########################]  100%  10/10 steps  0.50/s  in 0:00:20",
            ProgressBar.format("train", 10, 10, "steps", 20));
        assertEquals("scan  1234 files  617/s", ProgressBar.format("scan", 1234, 0, "files", 2));
        assertEquals("1:01:01", ProgressBar.duration(3660.2));
    }

    @Test
    void isSilentWhenStderrIsNotATerminal() {
        // surefire runs tests with stderr piped to a file, so this must be off, as in a log
        assertEquals(false, ProgressBar.stderrIsTerminal());
    }

    @Test
    void drawsOnlyWhenEnabledAndThrottles() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(buf, true, StandardCharsets.UTF_8);
        long[] now = {0};
        try (ProgressBar quiet = new ProgressBar("x", 3, "it", err, false, () -> now[0])) {
            quiet.step(3);
        }
        assertEquals("", buf.toString(StandardCharsets.UTF_8));

        try (ProgressBar bar = new ProgressBar("x", 4, "it", err, true, () -> now[0])) {
            now[0] = 1_000_000_000L;
            bar.step(1);                // drawn
            now[0] += 10_000_000L;
            bar.step(1);                // within 0.1 s: skipped
            now[0] += 990_000_000L;
            bar.step(2);                // done: drawn
        }
        String s = buf.toString(StandardCharsets.UTF_8);
        // two draws (the second padded over the longer first line), then the line ends
        assertEquals("\rx  [######..................]   25%  1/4 it  1.00/s  ETA 0:00:03"
            + "\rx  [########################]  100%  4/4 it  2.00/s  in 0:00:02 \n", s);
    }
}
