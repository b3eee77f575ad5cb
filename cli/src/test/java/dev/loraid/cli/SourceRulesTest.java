package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    /**
     * Internal packages are public only for the other packages of their own module (no module-info: the incubator
     * module, the shaded jar and surefire's class path make JPMS cost more than it gives here). Only the benchmarks,
     * which measure kernels, may reach into them.
     */
    @Test
    void internalPackagesAreUsedOnlyInsideTheirModule() throws IOException {
        Map<String, String> internal = Map.of(
                "dev.loraid.tensor.cpu", "tensor", "dev.loraid.tensor.cuda", "tensor", "dev.loraid.autograd.ops", "autograd");
        List<String> found = new ArrayList<>();
        for (Path f : mainSources()) {
            String module = ROOT.relativize(f).getName(0).toString();
            if (module.equals("bench")) {
                continue;
            }
            String text = Files.readString(f);
            internal.forEach((pkg, owner) -> {
                if (!module.equals(owner) && Pattern.compile(Pattern.quote(pkg) + "(\\.[a-z]\\w*)*\\.[A-Z]").matcher(text).find()) {
                    found.add(ROOT.relativize(f) + " uses " + pkg);
                }
            });
        }
        assertEquals(List.of(), found, "internal packages used outside their module");
    }

    /** The library names parameters in API words; only the CLI spells flags ({@code CliFlags}; issue 12). */
    @Test
    void coreWritesNoCommandLineFlag() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path f : mainSources()) {
            if (f.startsWith(ROOT.resolve("core"))) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i).contains("\"--")) {
                        found.add(ROOT.relativize(f) + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
            }
        }
        assertEquals(List.of(), found, "string literals in core that start with a flag");
    }

    /** loraid-bom manages every library module of the reactor, at the reactor's version. */
    @Test
    void theBomNamesEveryModuleAtTheReactorVersion() throws IOException {
        String parent = Files.readString(ROOT.resolve("pom.xml"));
        String bom = Files.readString(ROOT.resolve("bom/pom.xml"));
        assertEquals(first(parent, "<artifactId>loraid-parent</artifactId>\\s*<version>([^<]+)</version>"),
                first(bom, "<artifactId>loraid-bom</artifactId>\\s*<version>([^<]+)</version>"), "bom version");
        List<String> missing = new ArrayList<>();
        for (Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(parent); m.find(); ) {
            if (m.group(1).equals("bom") || m.group(1).equals("bench")) { // bench is no library
                continue;
            }
            String artifact = first(Files.readString(ROOT.resolve(m.group(1)).resolve("pom.xml")),
                    "</parent>\\s*<artifactId>([^<]+)</artifactId>");
            if (!bom.contains("<artifactId>" + artifact + "</artifactId>")) {
                missing.add(artifact);
            }
        }
        assertEquals(List.of(), missing, "modules missing from bom/pom.xml");
    }

    private static String first(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex);
        return m.group(1);
    }

    /** Core's packages depend on each other one way only (lora → plan, ema → lora, merge → lora; issue 12). */
    @Test
    void corePackagesFormNoCycle() throws IOException {
        String prefix = "dev.loraid.core.";
        Map<String, Set<String>> uses = new TreeMap<>();
        Pattern ref = Pattern.compile("\\bdev\\.loraid\\.core\\.([a-z]\\w*)\\.[A-Z]");
        for (Path f : mainSources()) {
            String text = Files.readString(f);
            Matcher pkg = Pattern.compile("^package " + Pattern.quote(prefix) + "(\\w+);", Pattern.MULTILINE).matcher(text);
            if (!pkg.find()) {
                continue;
            }
            Set<String> to = uses.computeIfAbsent(pkg.group(1), k -> new TreeSet<>());
            for (Matcher m = ref.matcher(text); m.find(); ) {
                if (!m.group(1).equals(pkg.group(1))) {
                    to.add(m.group(1));
                }
            }
        }
        assertTrue(uses.keySet().containsAll(List.of("lora", "plan", "ema", "merge")), "core packages: " + uses.keySet());
        List<String> cycles = new ArrayList<>();
        for (String a : uses.keySet()) {
            for (String b : uses.keySet()) {
                if (a.compareTo(b) < 0 && reaches(uses, a, b, new TreeSet<>()) && reaches(uses, b, a, new TreeSet<>())) {
                    cycles.add(a + " <-> " + b);
                }
            }
        }
        assertEquals(List.of(), cycles, "package cycles in core (imports: " + uses + ")");
    }

    private static boolean reaches(Map<String, Set<String>> uses, String from, String to, Set<String> seen) {
        for (String next : uses.getOrDefault(from, Set.of())) {
            if (next.equals(to) || (seen.add(next) && reaches(uses, next, to, seen))) {
                return true;
            }
        }
        return false;
    }
}
