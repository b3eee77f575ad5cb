package dev.loraid.core.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** The musubi fixture (test resources musubi_cache/: upstream's TOMLs, caches and source media). */
final class CacheFixture {
    private CacheFixture() {
    }

    static Path dir() {
        try {
            return Path.of(CacheFixture.class.getResource("/musubi_cache/expected.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode expected() throws IOException {
        return new ObjectMapper().readTree(dir().resolve("expected.json").toFile());
    }

    /** Copies the fixture's TOMLs and media (not its caches) into {@code work}, the working directory to run in. */
    static void copySources(Path work) throws IOException {
        for (String f : new String[] {"dataset.toml", "dataset_i2v.toml"}) {
            Files.copy(dir().resolve(f), work.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        for (String d : new String[] {"images", "videos", "videos_i2v"}) {
            Files.createDirectories(work.resolve(d));
            try (Stream<Path> s = Files.list(dir().resolve(d))) {
                s.forEach(p -> {
                    try {
                        Files.copy(p, work.resolve(d).resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
    }
}
