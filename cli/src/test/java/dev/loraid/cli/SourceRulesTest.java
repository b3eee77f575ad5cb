package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Rules over the main sources of every module of the reactor (read from {@code ../<module>/src/main/java}; the CLI
 * module's tests run from its own folder, and every other module is its sibling). Issue 12.
 */
class SourceRulesTest {
    /** The reactor root: the parent of this module's folder. */
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    /** Every main source file of every module, {@code package-info} and {@code module-info} left out. */
    static List<Path> mainSources() throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> modules = Files.list(ROOT)) {
            for (Path m : modules.sorted().toList()) {
                Path src = m.resolve("src/main/java");
                if (!Files.isDirectory(src)) {
                    continue;
                }
                try (Stream<Path> files = Files.walk(src)) {
                    files.filter(f -> f.toString().endsWith(".java"))
                            .filter(f -> !f.getFileName().toString().matches("(package|module)-info\\.java"))
                            .forEach(out::add);
                }
            }
        }
        return out;
    }

    /** A simple class name names one concept: {@code nn.Linear} and the autograd node {@code LinearOp}, not two Linears. */
    @Test
    void noTwoMainClassesShareASimpleName() throws IOException {
        List<Path> sources = mainSources();
        assertTrue(sources.size() > 100, "found only " + sources.size() + " main sources under " + ROOT);
        Map<String, List<Path>> byName = new TreeMap<>();
        for (Path f : sources) {
            byName.computeIfAbsent(f.getFileName().toString(), k -> new ArrayList<>()).add(ROOT.relativize(f));
        }
        Map<String, List<Path>> twice = new TreeMap<>();
        byName.forEach((name, files) -> {
            if (files.size() > 1) {
                twice.put(name, files);
            }
        });
        assertEquals(Map.of(), twice, "main class names used more than once");
    }
}
