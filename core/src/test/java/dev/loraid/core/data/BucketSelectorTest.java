package dev.loraid.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Spec training.md §4.4, against values worked out by hand from the formulas there. */
class BucketSelectorTest {
    @Test
    void bucketsOf960x544() {
        // A = 522240, s = 722, min_size = 352; w = 352 … 736 step 16; h = (A / w) rounded down to 16
        List<Size> b = new BucketSelector(new Size(960, 544), true, false).buckets();
        assertEquals(47, b.size()); // 25 widths × 2, less (720, 720) once and (704, 736)/(736, 704) twice
        assertEquals(new Size(352, 1472), b.getFirst()); // 522240 / 352 = 1483 → 1472
        assertEquals(new Size(368, 1408), b.get(1));     // 522240 / 368 = 1419 → 1408
        assertEquals(new Size(1472, 352), b.getLast());
        assertTrue(b.contains(new Size(960, 544)) && b.contains(new Size(544, 960)) && b.contains(new Size(720, 720)));
        for (Size s : b) {
            assertEquals(0, s.width() % 16, s.toString());
            assertEquals(0, s.height() % 16, s.toString());
        }
    }

    @Test
    void nearestAspectRatio() {
        BucketSelector s = new BucketSelector(new Size(960, 544), true, false);
        // 16:9 = 1.778: 960/544 = 1.765 beats 976/528 = 1.848 and 928/560 = 1.657
        assertEquals(new Size(960, 544), s.select(new Size(1920, 1080)));
        assertEquals(new Size(720, 720), s.select(new Size(300, 300)));   // upscaled: no_upscale is off
        assertEquals(new Size(544, 960), s.select(new Size(1080, 1920)));
    }

    @Test
    void tinyResolutionOfTheFixture() {
        // 48×32: A = 1536, s = 39, min_size = 16; w = 16, 32, 48 → (16,96) (32,48) (48,32) (96,16)
        BucketSelector s = new BucketSelector(new Size(48, 32), true, false);
        assertEquals(List.of(new Size(16, 96), new Size(32, 48), new Size(48, 32), new Size(96, 16)), s.buckets());
        assertEquals(new Size(48, 32), s.select(new Size(50, 30)));  // 1.667: 1.5 is nearest
        assertEquals(new Size(48, 32), s.select(new Size(64, 40)));  // the fixture's i2v video (1.6)
        assertEquals(new Size(32, 48), s.select(new Size(100, 100))); // |0.667 - 1| < |1.5 - 1|
    }

    @Test
    void noUpscale() {
        BucketSelector s = new BucketSelector(new Size(48, 32), true, true);
        assertEquals(new Size(48, 16), s.select(new Size(50, 30)));   // area 1500 ≤ 1536: own size rounded down
        assertEquals(new Size(32, 16), s.select(new Size(40, 20)));
        assertEquals(new Size(48, 32), s.select(new Size(48, 32)));
        assertEquals(new Size(48, 32), s.select(new Size(60, 40)));   // area 2400 > 1536: nearest ratio
    }

    @Test
    void withoutBucketingOneBucketAndNoUpscaleIgnored() {
        BucketSelector s = new BucketSelector(new Size(48, 32), false, true);
        assertEquals(List.of(new Size(48, 32)), s.buckets());
        assertEquals(new Size(48, 32), s.select(new Size(40, 20)));
        assertEquals(new Size(48, 32), s.select(new Size(1000, 10)));
    }

    @Test
    void tooSmallForBuckets() {
        assertThrows(IllegalArgumentException.class, () -> new BucketSelector(new Size(16, 16), true, false));
        assertEquals(new Size(16, 16), new BucketSelector(new Size(16, 16), false, false).select(new Size(5, 5)));
    }
}
