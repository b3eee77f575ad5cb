package dev.loraid.tensor.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class KernelCacheTest {
    @TempDir
    Path tmp;

    @Test
    void compilesOnceThenLoadsFromDisk() throws IOException {
        AtomicInteger compiles = new AtomicInteger();
        String key = KernelCache.key("a.cu", "src", List.of("h.cuh", "header"), List.of("--gpu-architecture=sm_90"), "13.0");
        byte[] bin = {1, 2, 3, 4};
        byte[] first = new KernelCache(tmp).getOrCompile("a", key, () -> {
            compiles.incrementAndGet();
            return bin;
        });
        byte[] second = new KernelCache(tmp).getOrCompile("a", key, () -> {
            compiles.incrementAndGet();
            return new byte[] {9};
        });
        assertArrayEquals(bin, first);
        assertArrayEquals(bin, second);
        assertEquals(1, compiles.get());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of("a-" + key.substring(0, 24) + ".cubin"), files.map(p -> p.getFileName().toString()).toList(),
                "exactly the entry, no temp file left");
        }
    }

    @Test
    void keyChangesWithEveryInput() {
        String base = KernelCache.key("a.cu", "src", List.of("h", "x"), List.of("-o1"), "13.0");
        assertNotEquals(base, KernelCache.key("a.cu", "src2", List.of("h", "x"), List.of("-o1"), "13.0"));
        assertNotEquals(base, KernelCache.key("a.cu", "src", List.of("h", "y"), List.of("-o1"), "13.0"));
        assertNotEquals(base, KernelCache.key("a.cu", "src", List.of("h", "x"), List.of("-o2"), "13.0"));
        assertNotEquals(base, KernelCache.key("a.cu", "src", List.of("h", "x"), List.of("-o1"), "12.8"));
        assertNotEquals(base, KernelCache.key("b.cu", "src", List.of("h", "x"), List.of("-o1"), "13.0"));
        // length prefixes: moving a boundary between parts changes the key
        assertNotEquals(KernelCache.key("a", "bc", List.of(), List.of(), "v"), KernelCache.key("ab", "c", List.of(), List.of(), "v"));
    }

    @Test
    void unwritableFolderStillReturnsTheBinary() throws IOException {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        byte[] bin = new KernelCache(file.resolve("sub")).getOrCompile("a", "0".repeat(64), () -> new byte[] {7});
        assertArrayEquals(new byte[] {7}, bin);
    }
}
