package dev.loraid.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec §4.7 "Loading a batch": key normalisation, header dtypes, and the checks that name file and key. */
class BatchLoaderTest {
    @TempDir
    Path dir;

    @Test
    void normalize() {
        assertEquals("latents", BatchLoader.normalize("latents_1x4x6_bfloat16"));
        assertEquals("latents_image", BatchLoader.normalize("latents_image_2x4x6_bfloat16"));
        assertEquals("latents_control", BatchLoader.normalize("latents_control_21x60x104_float16"));
        assertEquals("clip", BatchLoader.normalize("clip_bfloat16"));
        assertEquals("t5", BatchLoader.normalize("varlen_t5_bfloat16"));
        assertEquals("f_indices", BatchLoader.normalize("f_indices_int32"));
        assertEquals("latents_image", BatchLoader.normalize("latents_image_float32")); // no FxHxW: kept
        assertEquals("t5_mask", BatchLoader.normalize("varlen_t5_mask"));
    }

    private CacheItem item(String key, Map<String, Tensor> latent, Map<String, Tensor> text) throws IOException {
        Path l = dir.resolve(key + "_0048x0032_wan.safetensors");
        Path t = dir.resolve(key + "_wan_te.safetensors");
        SafetensorsWriter.write(l, latent, Map.of());
        SafetensorsWriter.write(t, text, Map.of());
        return new CacheItem(key, l, t, new BucketKey(48, 32, 9), new Size(48, 32), new Size(48, 32), null, null);
    }

    private static Map<String, Tensor> map(Object... kv) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Tensor) kv[i + 1]);
        }
        return m;
    }

    private static Tensor bf16(long... dims) {
        return Tensor.full(DType.BF16, 0.5, dims);
    }

    @Test
    void loadsInHeaderDtypeAndOutlivesTheFiles() throws IOException {
        // the name says float32, the header says F16: the header wins
        CacheItem a = item("a", map("latents_1x4x6_bfloat16", bf16(4, 1, 4, 6), "clip_float32",
            Tensor.full(DType.F16, 1.25, 5, 16)), map("varlen_t5_bfloat16", bf16(3, 32)));
        TrainSample s = BatchLoader.load(a);
        assertEquals(DType.F16, s.clip().dtype());
        assertEquals(1.25, s.clip().getDouble(4, 15));
        assertEquals(DType.BF16, s.latents().dtype());
        assertEquals(0.5, s.latents().getDouble(3, 0, 3, 5));
        assertEquals(List.of(3L, 32L), List.of(s.t5().size(0), s.t5().size(1)));
        // the files are closed: the copies must not be views of their mappings
        assertFalse(s.latents().storage().owner() instanceof SafetensorsFile);
        assertFalse(s.t5().storage().owner() instanceof SafetensorsFile);
        assertEquals(0.5, BatchLoader.load(a).t5().getDouble(2, 31));
    }

    @Test
    void missingLatentsOrT5() throws IOException {
        CacheItem noLatents = item("a", map("clip_float16", bf16(5, 16)), map("varlen_t5_bfloat16", bf16(3, 32)));
        String m = assertThrows(LoraidException.class, () -> BatchLoader.load(noLatents)).getMessage();
        assertTrue(m.contains("a_0048x0032_wan.safetensors") && m.contains("no latents"), m);
        CacheItem noT5 = item("b", map("latents_1x4x6_bfloat16", bf16(4, 1, 4, 6)), map());
        m = assertThrows(LoraidException.class, () -> BatchLoader.load(noT5)).getMessage();
        assertTrue(m.contains("b_wan_te.safetensors") && m.contains("no t5"), m);
    }

    @Test
    void wrongRanks() throws IOException {
        CacheItem a = item("a", map("latents_1x4x6_bfloat16", bf16(4, 4, 6)), map("varlen_t5_bfloat16", bf16(3, 32)));
        String m = assertThrows(LoraidException.class, () -> BatchLoader.load(a)).getMessage();
        assertTrue(m.contains("a_0048x0032_wan.safetensors: latents_1x4x6_bfloat16: expected rank 4 [C, F, H, W], got shape [4, 4, 6]"), m);
        CacheItem b = item("b", map("latents_1x4x6_bfloat16", bf16(4, 1, 4, 6)), map("varlen_t5_bfloat16", bf16(1, 3, 32)));
        m = assertThrows(LoraidException.class, () -> BatchLoader.load(b)).getMessage();
        assertTrue(m.contains("b_wan_te.safetensors: varlen_t5_bfloat16: expected rank 2"), m);
    }

    @Test
    void unexpectedTensors() throws IOException {
        CacheItem b = item("b", map("latents_1x4x6_bfloat16", bf16(4, 1, 4, 6)), map("varlen_llm_bfloat16", bf16(3, 32)));
        String m = assertThrows(LoraidException.class, () -> BatchLoader.load(b)).getMessage();
        assertTrue(m.contains("b_wan_te.safetensors: varlen_llm_bfloat16: unexpected tensor"), m);
    }

    /**
     * A one-frame cache as upstream's --one_frame writes it (control and target frames, f_indices, CLIP tokens per
     * control image): the two images' tokens follow each other in order; f_indices must have one entry per latent frame.
     */
    @Test
    void oneFrameCaches() throws IOException {
        Tensor clip = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 3, 2).to(DType.F16);
        CacheItem a = item("a", map("latents_3x4x6_bfloat16", bf16(4, 3, 4, 6), "latents_image_3x4x6_bfloat16",
            bf16(8, 3, 4, 6), "clip_bfloat16", clip, "f_indices_int32", Tensor.zeros(DType.I32, 3)),
            map("varlen_t5_bfloat16", bf16(3, 32)));
        TrainSample s = BatchLoader.load(a);
        assertEquals(List.of(6L, 2L), List.of(s.clip().size(0), s.clip().size(1)));
        assertEquals(7.0, s.clip().getDouble(3, 0), "image 1's first token follows image 0's three");
        assertEquals(12.0, s.clip().getDouble(5, 1));
        CacheItem b = item("b", map("latents_3x4x6_bfloat16", bf16(4, 3, 4, 6), "f_indices_int32",
            Tensor.zeros(DType.I32, 2)), map("varlen_t5_bfloat16", bf16(3, 32)));
        String m = assertThrows(LoraidException.class, () -> BatchLoader.load(b)).getMessage();
        assertTrue(m.contains("f_indices_int32: shape [2], expected one RoPE index per latent frame [3]"), m);
    }

    @Test
    void itemsOfOneBatchMustShareShapes() throws IOException {
        CacheItem a = item("a", map("latents_1x4x6_bfloat16", bf16(4, 1, 4, 6)), map("varlen_t5_bfloat16", bf16(3, 32)));
        CacheItem b = item("b", map("latents_2x4x6_bfloat16", bf16(4, 2, 4, 6)), map("varlen_t5_bfloat16", bf16(5, 32)));
        CacheItem c = item("c", map("latents_1x4x6_bfloat16", bf16(4, 1, 4, 6)), map("varlen_t5_bfloat16", bf16(7, 32)));
        assertEquals(2, BatchLoader.load(new Batch(0, a.bucketKey(), List.of(a, c))).size()); // t5 lengths may differ
        String m = assertThrows(LoraidException.class,
            () -> BatchLoader.load(new Batch(0, a.bucketKey(), List.of(a, b)))).getMessage();
        assertTrue(m.contains("b_0048x0032_wan.safetensors: latents is [4, 2, 4, 6] BF16 but ")
            && m.contains("a_0048x0032_wan.safetensors"), m);
    }
}
