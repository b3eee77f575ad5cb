package dev.loraid.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec training.md §4.1: keys, types, defaults, lookup order, paths, and errors that say file:line and key. */
class DatasetConfigReaderTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private DatasetConfig read(Path file) {
        return DatasetConfigReader.read(file, dir, Reporter.SILENT);
    }

    /** Reads {@code text} as ds.toml and returns the error message, checking that it names file, line and key. */
    private String error(String text, int line, String key) throws IOException {
        Path f = write("ds.toml", text);
        LoraidException e = assertThrows(LoraidException.class, () -> read(f));
        String m = e.getMessage();
        assertTrue(m.contains("ds.toml:" + line + ":"), "line " + line + " in: " + m);
        assertTrue(m.contains(key), key + " in: " + m);
        return m;
    }

    @Test
    void defaultsAndLookupOrder() throws IOException {
        Path f = write("ds.toml", """
            [general]
            resolution = 512
            batch_size = 3
            enable_bucket = true

            [[datasets]]
            image_directory = "imgs"
            batch_size = 2

            [[datasets]]
            video_directory = "/abs/vids"
            cache_directory = "cv"
            resolution = [64, 32]
            source_fps = 30
            """);
        DatasetConfig c = read(f);
        assertEquals(f, c.file());
        DatasetSpec img = c.datasets().get(0);
        assertEquals(DatasetSpec.Kind.IMAGE, img.kind());
        assertEquals(new Size(512, 512), img.resolution());
        assertEquals(2, img.batchSize());
        assertEquals(1, img.numRepeats());
        assertTrue(img.enableBucket());
        assertEquals(false, img.bucketNoUpscale());
        assertNull(img.captionExtension());
        assertEquals(9, img.fpLatentWindowSize());
        assertEquals(dir.resolve("imgs"), img.imageDirectory());
        assertEquals(dir.resolve("imgs"), img.cacheDirectory());
        DatasetSpec vid = c.datasets().get(1);
        assertEquals(DatasetSpec.Kind.VIDEO, vid.kind());
        assertEquals(new Size(64, 32), vid.resolution());
        assertEquals(3, vid.batchSize());
        assertEquals(Path.of("/abs/vids"), vid.videoDirectory());
        assertEquals(dir.resolve("cv"), vid.cacheDirectory());
        assertEquals(List.of(1), vid.targetFrames());
        assertEquals("head", vid.frameExtraction());
        assertEquals(1, vid.frameStride());
        assertEquals(1, vid.frameSample());
        assertEquals(129, vid.maxFrames());
        assertEquals(30.0, vid.sourceFps());
    }

    @Test
    void noGeneralGivesTheDataclassDefaults() throws IOException {
        DatasetSpec d = read(write("ds.toml", "[[datasets]]\nimage_directory = \"i\"\n")).datasets().getFirst();
        assertEquals(new Size(960, 544), d.resolution());
        assertEquals(1, d.batchSize());
        assertEquals(false, d.enableBucket());
    }

    @Test
    void json() throws IOException {
        Path f = write("ds.json", """
            {"general": {"resolution": [48, 32], "caption_extension": ".txt"},
             "datasets": [{"video_directory": "v", "target_frames": [1, 5], "frame_extraction": "chunk"}]}
            """);
        DatasetSpec d = read(f).datasets().getFirst();
        assertEquals(".txt", d.captionExtension());
        assertEquals(List.of(1, 5), d.targetFrames());
        assertEquals("chunk", d.frameExtraction());
    }

    @Test
    void jsonErrorsHaveLinesAndColumns() throws IOException {
        Path f = write("ds.json", """
            {"general": {"batch_size": 1},
             "datasets": [
               {"image_directory": "i",
                "num_repeats": 0}]}
            """);
        LoraidException e = assertThrows(LoraidException.class, () -> read(f));
        assertTrue(e.getMessage().contains("ds.json:4:5: datasets[0].num_repeats: expected an integer ≥ 1, got 0"),
            e.getMessage());
        Path dup = write("dup.json", "{\"datasets\": [{\"image_directory\": \"a\", \"image_directory\": \"b\"}]}");
        e = assertThrows(LoraidException.class, () -> read(dup));
        assertTrue(e.getMessage().contains("dup.json:1:") && e.getMessage().contains("image_directory"), e.getMessage());
    }

    @Test
    void unknownKey() throws IOException {
        error("""
            [general]
            batch_size = 1

            [[datasets]]
            image_directory = "i"
            frame_extraction = "head"
            """, 6, "datasets[0].frame_extraction: unknown key");
        error("[general]\nresolution = 8\nimage_directory = \"x\"\n", 3, "general.image_directory: unknown key");
        error("[genral]\nbatch_size = 1\n", 1, "genral: unknown key");
    }

    @Test
    void wrongType() throws IOException {
        String m = error("""
            [[datasets]]
            image_directory = "i"

            [[datasets]]
            video_directory = "v"
            # a comment with batch_size = 5
            batch_size = "two"
            """, 7, "datasets[1].batch_size");
        assertTrue(m.endsWith("datasets[1].batch_size: expected an integer ≥ 1, got \"two\""), m);
        error("[[datasets]]\nimage_directory = \"i\"\nenable_bucket = 1\n", 3, "datasets[0].enable_bucket: expected true or false");
        error("[[datasets]]\nimage_directory = 5\n", 2, "datasets[0].image_directory: expected a string");
        error("[[datasets]]\nvideo_directory = \"v\"\ntarget_frames = [1,\n  \"x\"]\n", 3, "datasets[0].target_frames");
        error("[general]\nresolution = [48, 32, 1]\n[[datasets]]\nimage_directory = \"i\"\n", 2, "general.resolution");
    }

    @Test
    void impossibleValues() throws IOException {
        error("[general]\nbatch_size = 0\n[[datasets]]\nimage_directory = \"i\"\n", 2, "general.batch_size: expected an integer ≥ 1, got 0");
        error("[[datasets]]\nimage_directory = \"i\"\nnum_repeats = -1\n", 3, "datasets[0].num_repeats");
        error("[[datasets]]\nimage_directory = \"i\"\nresolution = [0, 32]\n", 3, "datasets[0].resolution");
        error("[[datasets]]\nimage_directory = \"i\"\nresolution = 16\nenable_bucket = true\n", 3,
            "datasets[0].resolution: resolution 16x16 is too small for bucketing");
        error("[[datasets]]\nvideo_directory = \"v\"\nframe_extraction = \"random\"\n", 3, "datasets[0].frame_extraction");
        error("[[datasets]]\nvideo_directory = \"v\"\nsource_fps = 0\n", 3, "datasets[0].source_fps");
    }

    @Test
    void neitherImageNorVideoOrBoth() throws IOException {
        error("""
            [general]
            batch_size = 1

            [[datasets]]
            image_directory = "i"

              [[datasets]]
            cache_directory = "c"
            """, 7, "datasets[1]: needs image_directory or image_jsonl_file");
        error("[[datasets]]\nimage_directory = \"i\"\nvideo_directory = \"v\"\n", 1, "datasets[0]: a dataset is either");
        Path none = write("none.toml", "[general]\nbatch_size = 1\n");
        LoraidException e = assertThrows(LoraidException.class, () -> read(none));
        assertTrue(e.getMessage().startsWith(none + ": datasets: no [[datasets]] entries"), e.getMessage());
        error("[[datasets]]\nimage_jsonl_file = \"i.jsonl\"\n", 1, "datasets[0]: cache_directory is required");
    }

    @Test
    void duplicateCacheDirectory() throws IOException {
        String m = error("""
            [[datasets]]
            image_directory = "i"
            cache_directory = "cache"

            [[datasets]]
            video_directory = "v"
            cache_directory = "./cache/"
            """, 7, "datasets[1].cache_directory");
        assertTrue(m.contains("also used by datasets[0]"), m);
        // defaulted to the image directory: the error points at that key
        error("[[datasets]]\nimage_directory = \"x\"\n[[datasets]]\nimage_directory = \"y\"\ncache_directory = \"x\"\n"
            + "[[datasets]]\nimage_directory = \"x\"\n", 5, "datasets[1].cache_directory");
    }

    @Test
    void syntaxError() throws IOException {
        String m = error("""
            [general]
            batch_size = 1
            resolution = [48, 32
            [[datasets]]
            """, 4, "syntax error"); // the array may go on over lines: the error is where [[ appears
        error("[general]\nbatch_size = = 1\n", 2, "syntax error");
        assertTrue(m.startsWith(dir.resolve("ds.toml") + ":"), m);
        error("[[datasets]]\nimage_directory = \"i\"\nimage_directory = \"j\"\n", 3, "image_directory");
    }

    @Test
    void notTomlOrJson() throws IOException {
        Path f = write("ds.yaml", "datasets: []\n");
        LoraidException e = assertThrows(LoraidException.class, () -> read(f));
        assertTrue(e.getMessage().contains("ds.yaml") && e.getMessage().contains(".toml or .json"), e.getMessage());
    }

    @Test
    void relativePathsPreferTheWorkingDirThenTheConfigFolder() throws IOException {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.createDirectories(conf.resolve("cache_a"));
        Files.createDirectories(conf.resolve("cache_b"));
        Files.createDirectories(work.resolve("cache_b"));
        Path f = Files.writeString(conf.resolve("ds.toml"), """
            [[datasets]]
            image_directory = "imgs"
            cache_directory = "cache_a"
            [[datasets]]
            image_directory = "imgs2"
            cache_directory = "cache_b"
            """);
        CollectingReporter rep = new CollectingReporter();
        DatasetConfig c = DatasetConfigReader.read(f, work, rep);
        assertEquals(conf.resolve("cache_a"), c.datasets().get(0).cacheDirectory());
        assertEquals(work.resolve("imgs"), c.datasets().get(0).imageDirectory()); // exists nowhere: upstream's rule
        assertEquals(work.resolve("cache_b"), c.datasets().get(1).cacheDirectory());
        assertEquals(1, rep.infos.size(), rep.infos.toString());
        assertTrue(rep.informed("cache_a") && !rep.informed("cache_b"), rep.infos.toString());
    }

    @Test
    void datasetsMetadata() throws IOException {
        Path f = write("ds.toml", """
            [general]
            resolution = [48, 32]
            caption_extension = ".txt"
            enable_bucket = true
            [[datasets]]
            image_directory = "some/images"
            cache_directory = "ci"
            batch_size = 2
            [[datasets]]
            video_directory = "videos"
            control_directory = "ctl"
            target_frames = [1, 5]
            """);
        JsonNode m = new ObjectMapper().readTree(DatasetsMetadata.json(read(f).datasets()));
        assertEquals(2, m.size());
        assertEquals("""
            {"resolution":[48,32],"caption_extension":".txt","batch_size_per_device":2,"num_repeats":1,\
            "enable_bucket":true,"bucket_no_upscale":false,"image_directory":"images","has_control":false}""",
            m.get(0).toString());
        assertEquals("""
            {"resolution":[48,32],"caption_extension":".txt","batch_size_per_device":1,"num_repeats":1,\
            "enable_bucket":true,"bucket_no_upscale":false,"video_directory":"videos","control_directory":"ctl",\
            "frame_extraction":"head","frame_stride":1,"frame_sample":1,"target_frames":[1,5],"max_frames":129,\
            "source_fps":null,"has_control":true}""", m.get(1).toString());
    }
}
