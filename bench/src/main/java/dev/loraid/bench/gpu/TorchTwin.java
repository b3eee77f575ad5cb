package dev.loraid.bench.gpu;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GPU benchmark's PyTorch twin, run as a child process (the harness's own PyTorch is DJL's CPU build): its output is
 * echoed with a {@code torch: } prefix, and its {@code torch_<name>=<value>} lines are collected.
 */
final class TorchTwin {
    private TorchTwin() {
    }

    /**
     * Runs {@code command} (its second element is the script) and returns its {@code torch_…} values by name.
     *
     * @throws IllegalArgumentException when the script is missing
     * @throws IllegalStateException    when the run fails or prints no {@code torch_ms=}
     */
    static Map<String, String> run(List<String> command, PrintStream out) throws Exception {
        Path script = Path.of(command.get(1));
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("PyTorch script " + script + " not found (--torch-script)");
        }
        Map<String, String> values = new LinkedHashMap<>();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.println("torch: " + line);
                int eq = line.indexOf('=');
                if (line.startsWith("torch_") && eq > 0) {
                    values.put(line.substring(0, eq), line.substring(eq + 1).trim());
                }
            }
        }
        int rc = p.waitFor();
        if (rc != 0 || !values.containsKey("torch_ms")) {
            throw new IllegalStateException("PyTorch run failed (exit " + rc + ", command " + command + ")");
        }
        return values;
    }
}
