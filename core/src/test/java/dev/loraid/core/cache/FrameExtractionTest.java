package dev.loraid.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.loraid.core.cache.FrameExtraction.Crop;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Frame extraction (training.md §4.3) against hand-computed crops. */
class FrameExtractionTest {
    static List<Crop> crops(String mode, int n, List<Integer> targets, int stride, int sample, int max) {
        return FrameExtraction.crops(mode, n, FrameExtraction.roundTargetFrames(targets), stride, sample, max);
    }

    @Test
    void targetFramesRoundDownTo4kPlus1() {
        assertEquals(List.of(1, 5, 9, 25), FrameExtraction.roundTargetFrames(List.of(25, 8, 1, 5, 27, 9, 4)));
    }

    @Test
    void modes() {
        // head: (0, f) for each f ≤ N
        assertEquals(List.of(new Crop(0, 1), new Crop(0, 5)), crops("head", 7, List.of(1, 5, 9), 1, 1, 129));
        // chunk: starts 0, f, 2f while start + f ≤ N; N = 11, f = 5 → 0, 5
        assertEquals(List.of(new Crop(0, 5), new Crop(5, 5)), crops("chunk", 11, List.of(5), 1, 1, 129));
        // slide: starts 0, stride, … ≤ N - f; N = 11, f = 5, stride 3 → 0, 3, 6
        assertEquals(List.of(new Crop(0, 5), new Crop(3, 5), new Crop(6, 5)), crops("slide", 11, List.of(5), 3, 1, 129));
        // uniform: linspace(0, N - f, sample) truncated; N = 20, f = 5, 4 samples: 0, 5, 10, 15
        assertEquals(List.of(new Crop(0, 5), new Crop(5, 5), new Crop(10, 5), new Crop(15, 5)),
            crops("uniform", 20, List.of(5), 1, 4, 129));
        // N = 12, f = 5, 3 samples: linspace(0, 7, 3) = 0, 3.5, 7 → 0, 3, 7
        assertEquals(List.of(new Crop(0, 5), new Crop(3, 5), new Crop(7, 5)), crops("uniform", 12, List.of(5), 1, 3, 129));
        // uniform with frame_sample 1 is head
        assertEquals(List.of(new Crop(0, 5)), crops("uniform", 12, List.of(5), 1, 1, 129));
        // full: one crop of floor((min(N, max) - 1)/4)*4 + 1
        assertEquals(List.of(new Crop(0, 13)), crops("full", 15, List.of(1), 1, 1, 129));
        assertEquals(List.of(new Crop(0, 9)), crops("full", 15, List.of(1), 1, 1, 10));
        assertThrows(IllegalArgumentException.class, () -> crops("random", 5, List.of(1), 1, 1, 129));
    }

    @Test
    void sourceFpsKeepsFramesWhoseWan16Index() {
        // 30 fps → 16: keep i when floor(i·16/30) changes: 0,2,4,6,8,10,12,14,15,17,…
        Videos.FrameFilter f = FrameExtraction.filter(30.0, 100);
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < 18; i++) {
            if (f.keep(i)) {
                kept.add(i);
            }
        }
        assertEquals(List.of(0, 2, 4, 6, 8, 10, 12, 14, 15, 17), kept);
        // no source_fps: every frame
        assertEquals(true, FrameExtraction.filter(null, 5).keep(3));
        assertEquals(5, FrameExtraction.decodeLimit("head", List.of(1, 5), 129));
        assertEquals(129, FrameExtraction.decodeLimit("full", List.of(1), 129));
    }
}
