package dev.loraid.core.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code ss_datasets} metadata string of a saved LoRA (spec training.md §4.7 last bullet, §5.3): a JSON list
 * with one object per dataset, in upstream's {@code get_metadata} key order. Directories are written as base
 * names only; has_control is whether a control_directory is set.
 */
public final class DatasetsMetadata {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DatasetsMetadata() {
    }

    public static String json(List<DatasetSpec> datasets) {
        ArrayNode list = JSON.createArrayNode();
        for (DatasetSpec d : datasets) {
            list.add(entry(d));
        }
        try {
            return JSON.writeValueAsString(list);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree of plain values always serialises
        }
    }

    static ObjectNode entry(DatasetSpec d) {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("resolution").add(d.resolution().width()).add(d.resolution().height());
        o.put("caption_extension", d.captionExtension());
        o.put("batch_size_per_device", d.batchSize());
        o.put("num_repeats", d.numRepeats());
        o.put("enable_bucket", d.enableBucket());
        o.put("bucket_no_upscale", d.bucketNoUpscale());
        if (d.isVideo()) {
            putBaseName(o, "video_directory", d.videoDirectory());
            putBaseName(o, "video_jsonl_file", d.videoJsonlFile());
            putBaseName(o, "control_directory", d.controlDirectory());
            o.put("frame_extraction", d.frameExtraction());
            o.put("frame_stride", d.frameStride());
            o.put("frame_sample", d.frameSample());
            ArrayNode frames = o.putArray("target_frames");
            d.targetFrames().forEach(frames::add);
            o.put("max_frames", d.maxFrames());
            o.put("source_fps", d.sourceFps());
        } else {
            putBaseName(o, "image_directory", d.imageDirectory());
            putBaseName(o, "image_jsonl_file", d.imageJsonlFile());
            putBaseName(o, "control_directory", d.controlDirectory());
        }
        o.put("has_control", d.controlDirectory() != null);
        return o;
    }

    private static void putBaseName(ObjectNode o, String key, Path p) {
        if (p != null) {
            o.put(key, p.getFileName() == null ? p.toString() : p.getFileName().toString());
        }
    }
}
