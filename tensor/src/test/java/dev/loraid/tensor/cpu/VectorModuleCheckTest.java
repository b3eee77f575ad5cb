package dev.loraid.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} fails at its first tensor with a message that
 * names the flag, not with a {@code NoClassDefFoundError} deep inside the first matmul (issue 12).
 */
class VectorModuleCheckTest {
    /** The child JVM's program: allocates two tensors and multiplies them. */
    public static void main(String[] args) {
        Tensor a = Tensor.zeros(Device.CPU, DType.F32, 4, 4);
        Tensor b = Tensor.zeros(Device.CPU, DType.F32, 4, 4);
        Tensor c = Tensor.zeros(Device.CPU, DType.F32, 4, 4);
        a.backend().matmul(a, b, c, 1, 0, null);
        System.out.println("product " + c.shape());
    }

    @Test
    void withoutTheIncubatorModuleTheFirstTensorNamesTheFlag() throws IOException, InterruptedException {
        Run without = run(List.of());
        assertEquals(1, without.exit(), without.output());
        assertTrue(without.output().contains("--add-modules jdk.incubator.vector"), without.output());
        assertTrue(!without.output().contains("NoClassDefFoundError"), without.output());
        Run with = run(List.of("--add-modules", "jdk.incubator.vector"));
        assertEquals(0, with.exit(), with.output());
        assertTrue(with.output().contains("product [4, 4]"), with.output());
    }

    private record Run(int exit, String output) {
    }

    private static Run run(List<String> flags) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java));
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), VectorModuleCheckTest.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish: " + out);
        return new Run(p.exitValue(), out);
    }
}
