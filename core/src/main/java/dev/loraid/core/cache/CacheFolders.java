package dev.loraid.core.cache;

import dev.loraid.core.LoraidException;
import dev.loraid.core.data.DatasetConfig;
import dev.loraid.core.data.DatasetSpec;
import dev.loraid.tensor.safetensors.TempFiles;
import java.nio.file.Files;
import java.nio.file.Path;

/** The cache folders a caching run writes to, made ready before any encoder is loaded or any item is read. */
public final class CacheFolders {
    private CacheFolders() {
    }

    /**
     * Creates every dataset's {@code cache_directory} and checks that it is writable, so a wrong folder fails at once
     * rather than after the VAE or UMT5 weights were loaded; temp files a killed earlier run left there are removed.
     *
     * @throws LoraidException naming the folder and the config file
     */
    public static void prepare(DatasetConfig config) {
        for (DatasetSpec spec : config.datasets()) {
            Path dir = spec.cacheDirectory();
            CacheRun.createDirectory(dir);
            if (!Files.isWritable(dir)) {
                throw new LoraidException("cache_directory " + dir + " (in " + config.file() + ") is not writable");
            }
            TempFiles.removeStale(dir);
        }
    }
}
