package dev.loraid.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loraid.core.Reporter;
import dev.loraid.core.data.BatchLoader;
import dev.loraid.core.data.DatasetGroup;
import dev.loraid.core.data.TrainSample;
import dev.loraid.core.data.WanCacheWriter;
import dev.loraid.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's stand-in VAE and its caches, read back by the trainer's own loaders. */
class PatchLatentsTest {
    @Test
    void patchMeansRoundTripForFlatPatches() {
        Picture p = new Picture(8, 4);
        p.fill(new float[] {0.25f, 0.5f, 1.0f});
        Tensor lat = PatchLatents.encode(p);
        assertArrayEquals(new long[] {4, 1, 1, 2}, lat.shape().toArray());
        float[] v = lat.toFloatArray();
        float[] bg = DemoScenes.BACKGROUND;
        assertEquals(2 * (0.25 - bg[0]), v[0], 1e-6);
        assertEquals(2 * (0.5 - bg[1]), v[2], 1e-6);
        assertEquals(2 * (1.0 - bg[2]), v[4], 1e-6);
        double bgLuminance = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2];
        assertEquals(2 * (0.299 * 0.25 + 0.587 * 0.5 + 0.114 - bgLuminance), v[6], 1e-6);
        Picture back = PatchLatents.decode(lat, 0);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 8; x++) {
                assertEquals(0.25f, back.get(0, x, y), 1e-6);
                assertEquals(1.0f, back.get(2, x, y), 1e-6);
            }
        }
    }

    @Test
    void theBackgroundIsTheLatentZero() {
        Picture p = new Picture(4, 4);
        p.fill(DemoScenes.BACKGROUND);
        for (float z : PatchLatents.encode(p).toFloatArray()) {
            assertEquals(0f, z, 1e-6);
        }
    }

    @Test
    void cachesWrittenForTheDemoAreWhatTheTrainerReads(@TempDir Path dir) throws Exception {
        DemoScenes.Scene s = DemoScenes.character(0, new SplittableRandom(1));
        Tensor lat = PatchLatents.encode(s.render());
        Tensor t5 = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        WanCacheWriter.writeImage(dir.resolve("cache"), "item0000", DemoScenes.SIZE, DemoScenes.SIZE, lat, t5, s.caption());
        Files.createDirectories(dir.resolve("images"));
        Path toml = dir.resolve("ds.toml");
        Files.writeString(toml, "[general]\nresolution = [" + DemoScenes.SIZE + ", " + DemoScenes.SIZE + "]\nbatch_size = 1\n"
                + "enable_bucket = false\n[[datasets]]\nimage_directory = \"" + dir.resolve("images") + "\"\ncache_directory = \""
                + dir.resolve("cache") + "\"\n");
        DatasetGroup g = DatasetGroup.open(toml, dir, Reporter.SILENT);
        assertEquals(1, g.numTrainItems());
        List<TrainSample> batch = BatchLoader.load(g.batches(0, 0).getFirst());
        assertArrayEquals(lat.shape().toArray(), batch.getFirst().latents().shape().toArray());
        float[] want = lat.toFloatArray();
        float[] got = batch.getFirst().latents().to(dev.loraid.tensor.DType.F32).toFloatArray();
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-2, "latent " + i + " (stored in bf16)");
        }
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, batch.getFirst().t5().to(dev.loraid.tensor.DType.F32).toFloatArray());
    }
}
