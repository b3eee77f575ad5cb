package dev.loraid.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.core.LoraidException;
import dev.loraid.core.data.DatasetConfig;
import dev.loraid.core.generate.Umt5TextEncoder;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --skip_existing, --keep_cache, --skip_errors, bad items, and the text cache through the real tiny UMT5. */
class CacheOptionsTest {
    @TempDir
    Path work;

    private DatasetConfig config(CollectingReporter rep) {
        return DatasetConfig.read(work.resolve("dataset.toml"), work, rep);
    }

    @Test
    void skipExistingAndKeepCache() throws IOException {
        CacheFixture.copySources(work);
        CollectingReporter rep = new CollectingReporter();
        new LatentCacher(new FakeEncoders.Vae(), work, CacheOptions.DEFAULTS, rep).run(config(rep));
        Path stale = work.resolve("cache_images/gone_0048x0032_wan.safetensors");
        Files.copy(work.resolve("cache_images/img_b_0048x0032_wan.safetensors"), stale);
        Path text = work.resolve("cache_images/other_wan_te.safetensors");
        Files.writeString(text, "kept: a text cache is not a latent cache");

        FakeEncoders.Vae vae = new FakeEncoders.Vae();
        CacheSummary s = new LatentCacher(vae, work, new CacheOptions(true, true, null, false, false), rep).run(config(rep));
        assertEquals(0, vae.calls.size());
        assertEquals(4, s.existing().size());
        assertTrue(Files.exists(stale), "--keep_cache keeps files this run did not produce");

        s = new LatentCacher(new FakeEncoders.Vae(), work, new CacheOptions(true, false, null, false, false), rep).run(config(rep));
        assertEquals(List.of(stale), s.deleted());
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(text));
    }

    @Test
    void skipErrorsListsBadItems() throws IOException {
        CacheFixture.copySources(work);
        Files.writeString(work.resolve("images/broken.png"), "not a png");
        Files.writeString(work.resolve("images/broken.txt"), "caption");
        Files.delete(work.resolve("images/img_b.txt"));
        CollectingReporter rep = new CollectingReporter();
        LoraidException e = assertThrows(LoraidException.class,
            () -> new LatentCacher(new FakeEncoders.Vae(), work, CacheOptions.DEFAULTS, rep).run(config(rep)));
        assertTrue(e.getMessage().contains("broken.png"), e.getMessage());
        assertTrue(e.getMessage().contains("CacheOptions.skipErrors"), e.getMessage());

        CacheSummary s = new LatentCacher(new FakeEncoders.Vae(), work, new CacheOptions(false, false, 1, true, false), rep)
            .run(config(rep));
        assertEquals(1, s.skipped().size(), s.toString());
        assertTrue(s.skipped().getFirst().contains("broken.png"));
        assertEquals(4, s.written().size());
        // the text side: a missing caption names the caption file
        CacheSummary t = new TextCacher(new FakeEncoders.T5(), work, new CacheOptions(false, false, null, true, false), rep)
            .run(config(rep));
        assertEquals(1, t.skipped().size());
        assertTrue(t.skipped().getFirst().contains("img_b.txt"), t.skipped().toString());
        assertTrue(rep.warned("img_b.txt"));
    }

    @Test
    void textCacheThroughTheTinyUmt5MatchesEncodingTheCaption() throws IOException {
        CacheFixture.copySources(work);
        CollectingReporter rep = new CollectingReporter();
        try (Umt5TextEncoder enc = Umt5TextEncoder.open(Golden.path("umt5_tiny_weights.safetensors"),
            Golden.path("spm_tiny_tokenizer.json"), 512, Device.CPU)) {
            new TextCacher(enc, work, CacheOptions.DEFAULTS, rep).run(config(rep));
            try (SafetensorsFile f = SafetensorsFile.open(work.resolve("cache_images/img_b_wan_te.safetensors"))) {
                assertEquals(List.of("varlen_t5_bfloat16"), f.names());
                assertEquals("a small blue circle", f.metadata().get("caption1"));
                Tensor cached = f.tensor("varlen_t5_bfloat16");
                assertEquals(DType.BF16, cached.dtype());
                Tensor direct = enc.encode("a small blue circle").to(DType.BF16);
                assertEquals(direct.shape(), cached.shape());
                float[] a = direct.to(DType.F32).toFloatArray();
                float[] b = cached.to(DType.F32).toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], "varlen_t5_bfloat16[" + i + "]");
                }
            }
        }
    }
}
