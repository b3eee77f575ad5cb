package dev.loraid.tensor.pth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.loraid.tensor.pth.PthFixtures.bits;
import static dev.loraid.tensor.pth.PthFixtures.pth;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Damaged copies of valid files: each is either refused with a {@link PthFormatException} or loads and then every
 * element of every tensor can be read; nothing else is thrown, and every open is fast (no hang, no huge allocation).
 * Systematic truncations, and byte corruptions of the 850 KB legacy file (too large a seed for {@link PthFuzzTest}'s
 * Jazzer run, which covers the zip format).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PthDamagedFileTest {
    /** One open of a small damaged file must never take this long. */
    private static final long MAX_NANOS_PER_OPEN = TimeUnit.SECONDS.toNanos(2);

    private enum Outcome { LOADED, REFUSED }

    private static Outcome tryOpen(Path file, String what) {
        long t0 = System.nanoTime();
        Outcome o;
        try (PthFile f = PthFile.open(file)) {
            for (String name : f.names()) {
                bits(f.tensor(name)); // every element in bounds
            }
            o = Outcome.LOADED;
        } catch (PthFormatException e) {
            assertTrue(e.getMessage().startsWith(file.toString() + ": "), what + ": message names the file: " + e.getMessage());
            o = Outcome.REFUSED;
        } catch (Throwable e) {
            throw new AssertionError(what + ": threw " + e + " instead of PthFormatException", e);
        }
        long dt = System.nanoTime() - t0;
        if (dt > MAX_NANOS_PER_OPEN) {
            fail(what + ": took " + dt / 1_000_000 + " ms");
        }
        return o;
    }

    @Test
    void everyTruncationOfASmallZipFileIsRefused(@TempDir Path tmp) throws IOException {
        byte[] full = Files.readAllBytes(pth("views_shared_storage.pth"));
        Path f = tmp.resolve("cut.pth");
        for (int n = 0; n < full.length; n++) {
            Files.write(f, Arrays.copyOf(full, n));
            assertEquals(Outcome.REFUSED, tryOpen(f, "first " + n + " of " + full.length + " bytes"));
        }
    }

    @Test
    void truncationsOfTheLegacyFileAreRefused(@TempDir Path tmp) throws IOException {
        byte[] full = Files.readAllBytes(pth("vae_tiny_f32_legacy.pth"));
        Path f = tmp.resolve("cut.pth");
        Random rnd = new Random(13);
        int[] lengths = new int[700];
        for (int i = 0; i < lengths.length; i++) {
            // every length through the first pickles, then a sample through the object pickle and the storages
            lengths[i] = i < 300 ? i : i < 500 ? rnd.nextInt(32200) : rnd.nextInt(full.length);
        }
        for (int n : lengths) {
            Files.write(f, Arrays.copyOf(full, n));
            assertEquals(Outcome.REFUSED, tryOpen(f, "first " + n + " of " + full.length + " legacy bytes"));
        }
    }

    @Test
    void randomByteCorruptionsOfTheLegacyPicklesAreRefusedOrLoadSafely(@TempDir Path tmp) throws IOException {
        byte[] full = Files.readAllBytes(pth("vae_tiny_f32_legacy.pth"));
        Path f = tmp.resolve("bad.pth");
        Random rnd = new Random(7);
        for (int trial = 0; trial < 300; trial++) {
            byte[] b = full.clone();
            int at = trial < 100 ? rnd.nextInt(400) : rnd.nextInt(32200); // the pickles end at byte 32156
            b[at] = (byte) rnd.nextInt(256);
            Files.write(f, b);
            tryOpen(f, "legacy byte " + at + " set to " + (b[at] & 0xFF));
        }
    }
}
