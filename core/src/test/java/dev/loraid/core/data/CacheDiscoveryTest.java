package dev.loraid.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraidException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec §4.5/§4.7: cache file names, item keys, text caches, and what happens when they are missing. */
class CacheDiscoveryTest {
    @TempDir
    Path dir;

    private Path toml(String text) throws IOException {
        return Files.writeString(dir.resolve("ds.toml"), "[general]\nresolution = [48, 32]\nenable_bucket = true\n" + text);
    }

    @Test
    void missingTextCacheWarnsAndSkipsTheItem() throws IOException {
        Path c = Files.createDirectories(dir.resolve("c"));
        Files.createFile(c.resolve("a_0050x0030_wan.safetensors"));
        Files.createFile(c.resolve("a_wan_te.safetensors"));
        Files.createFile(c.resolve("my_b_0048x0032_wan.safetensors")); // item key my_b: no my_b_wan_te
        Files.createFile(c.resolve("notes.txt"));
        CollectingReporter rep = new CollectingReporter();
        DatasetGroup g = DatasetGroup.open(toml("[[datasets]]\nimage_directory = \"i\"\ncache_directory = \"c\"\n"), dir, rep);
        assertEquals(1, g.numTrainItems());
        CacheItem a = g.datasets().getFirst().bucket(0).getFirst();
        assertEquals("a", a.itemKey());
        assertEquals(c.resolve("a_wan_te.safetensors"), a.textCache());
        assertEquals(new Size(50, 30), a.originalSize());
        assertEquals(new Size(48, 32), a.bucketSize());
        assertNull(a.frameCount());
        assertEquals(1, rep.warnings.size(), rep.warnings.toString());
        assertTrue(rep.warned("my_b_0048x0032_wan.safetensors") && rep.warned("my_b_wan_te.safetensors"), rep.warnings.toString());
    }

    @Test
    void videoNamesAndSharedTextCache() throws IOException {
        Path c = Files.createDirectories(dir.resolve("c"));
        Files.createFile(c.resolve("my_clip_00016-005_0048x0032_wan.safetensors"));
        Files.createFile(c.resolve("my_clip_wan_te.safetensors"));
        Files.createFile(c.resolve("bad_0048x0032_wan.safetensors")); // no start-length token for a video
        CollectingReporter rep = new CollectingReporter();
        DatasetGroup g = DatasetGroup.open(toml("[[datasets]]\nvideo_directory = \"v\"\ncache_directory = \"c\"\n"), dir, rep);
        CacheItem i = g.datasets().getFirst().bucket(0).getFirst();
        assertEquals("my_clip", i.itemKey());
        assertEquals(16, i.frameStart());
        assertEquals(5, i.frameCount());
        assertEquals(new BucketKey(48, 32, 5), i.bucketKey());
        assertEquals(c.resolve("my_clip_wan_te.safetensors"), i.textCache());
        assertTrue(rep.warned("bad_0048x0032_wan.safetensors"), rep.warnings.toString());
    }

    @Test
    void noUsableItemsIsOneErrorNamingEachDirectory() throws IOException {
        Path c1 = Files.createDirectories(dir.resolve("c1"));
        Files.createFile(c1.resolve("a_0050x0030_wan.safetensors"));
        Files.createDirectories(dir.resolve("c2"));
        Path f = toml("""
            [[datasets]]
            image_directory = "i"
            cache_directory = "c1"
            [[datasets]]
            image_directory = "j"
            cache_directory = "c2"
            [[datasets]]
            video_directory = "v"
            cache_directory = "c3"
            """);
        LoraidException e = assertThrows(LoraidException.class, () -> DatasetGroup.open(f, dir, new CollectingReporter()));
        String m = e.getMessage();
        assertTrue(m.startsWith(f + ": no cached training items found"), m);
        assertTrue(m.contains(dir.resolve("c1") + " has 1 latent caches but none usable: 1 without their *_wan_te.safetensors"), m);
        assertTrue(m.contains(dir.resolve("c2") + " has no *_wan.safetensors latent caches"), m);
        assertTrue(m.contains(dir.resolve("c3") + " does not exist"), m);
    }

    @Test
    void anEmptyDatasetBesideAFullOneIsAWarning() throws IOException {
        Path c = Files.createDirectories(dir.resolve("c"));
        Files.createFile(c.resolve("a_0050x0030_wan.safetensors"));
        Files.createFile(c.resolve("a_wan_te.safetensors"));
        CollectingReporter rep = new CollectingReporter();
        DatasetGroup g = DatasetGroup.open(toml("""
            [[datasets]]
            image_directory = "i"
            cache_directory = "c"
            [[datasets]]
            video_directory = "v"
            cache_directory = "nothing"
            """), dir, rep);
        assertEquals(1, g.batchesPerEpoch());
        assertEquals(List.of(), g.datasets().get(1).bucketKeys());
        assertTrue(rep.warned(dir.resolve("nothing") + " does not exist"), rep.warnings.toString());
    }

    @Test
    void fixtureItemKeysAndDatasetsMetadata() {
        Path d = MusubiFixture.dir();
        DatasetGroup g = DatasetGroup.open(d.resolve("dataset.toml"), d, new CollectingReporter());
        assertEquals("""
            [{"resolution":[48,32],"caption_extension":".txt","batch_size_per_device":2,"num_repeats":1,\
            "enable_bucket":true,"bucket_no_upscale":false,"image_directory":"images","has_control":false},\
            {"resolution":[48,32],"caption_extension":".txt","batch_size_per_device":1,"num_repeats":1,\
            "enable_bucket":true,"bucket_no_upscale":false,"video_directory":"videos","frame_extraction":"head",\
            "frame_stride":1,"frame_sample":1,"target_frames":[1,5],"max_frames":129,"source_fps":null,\
            "has_control":false}]""", g.datasetsMetadataJson());
    }
}
