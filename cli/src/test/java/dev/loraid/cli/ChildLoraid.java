package dev.loraid.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** {@code loraid} in a JVM of its own, for tests that kill it or run it under a resource limit. */
final class ChildLoraid {
    private ChildLoraid() {
    }

    /** The launcher's JVM options file (scripts/jvm.options of this checkout), as {@code loraid} passes it to java. */
    static Path launcherOptions() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path options = dir.resolve("scripts").resolve("jvm.options");
            if (Files.isRegularFile(options)) {
                return options;
            }
        }
        throw new IllegalStateException("scripts/jvm.options not found above " + Path.of("").toAbsolutePath());
    }

    /** The command line: this JVM's java and class path, the launcher's JVM options, {@link Main} and {@code args}. */
    static List<String> command(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + launcherOptions(), "-XX:-UsePerfData", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(args);
        return cmd;
    }

    /** Starts {@code prefix + command(args)} with stdout and stderr both going to {@code log}. */
    static Process start(List<String> prefix, List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(command(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /**
     * Runs {@code prefix + command(args)} to its end (at most 120 s): exit code, stdout, stderr. The output comes
     * through pipes, not files, so that a file size limit on the child does not cut it.
     */
    static CliRun run(List<String> prefix, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(command(args));
        Process p = new ProcessBuilder(cmd).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("loraid " + args + " did not end in 120 s");
        }
        return new CliRun(p.exitValue(), out.join(), err.join());
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
