package dev.loraid.core.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The musubi-tuner cache fixture copied into test resources ({@code musubi_cache/}, from
 * shared/testdata/musubi_cache: caches and TOMLs written by upstream's own code, and what its loader found).
 */
final class MusubiFixture {
    private MusubiFixture() {
    }

    static Path dir() {
        try {
            return Path.of(MusubiFixture.class.getResource("/musubi_cache/expected.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode expected() throws IOException {
        return new ObjectMapper().readTree(dir().resolve("expected.json").toFile());
    }
}
