package dev.loraid.tensor.cuda;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.UnaryOp;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA sources without a GPU: every .cu compiles with {@code nvcc -ptx -arch=sm_90} (skipped, saying so,
 * where nvcc is absent), the PTX exports every kernel the Java side launches, the enums the kernels switch on
 * match the Java enums' order, and the sources the jar ships are the ones compiled here.
 */
class CudaSourcesTest {
    /** The module's kernel sources: from the module folder (Maven) or the repository root (GpuTestMain). */
    private static final Path MODULE = Files.isDirectory(Path.of("src/main/cuda")) ? Path.of(".") : Path.of("tensor");
    private static final Path SOURCES = MODULE.resolve("src/main/cuda");
    private static final Path OUT = MODULE.resolve("target/cuda-ptx");
    private static final Map<String, String> PTX = new ConcurrentHashMap<>();
    private static String nvccProblem;

    /** Every kernel CudaBackend and its helpers launch, by module. */
    private static final Map<String, List<String>> ENTRIES = Map.ofEntries(
        Map.entry("copy", List.of("copy_cast", "copy_cast_vec", "fill_value", "gather_rows")),
        Map.entry("elementwise", withVec(variants("unary", "unary_backward", "binary", "binary_scalar", "add_scaled"))),
        Map.entry("reduce", variants("reduce")),
        Map.entry("softmax", variants("softmax", "softmax_backward")),
        Map.entry("norm", withList(variants("layer_norm", "layer_norm_backward", "norm_param_grads"), "layer_norm_vec",
            "layer_norm_backward_vec")),
        Map.entry("rope", withList(variants("rope"), "rope_vec")),
        Map.entry("adamw", List.of("adamw_update", "adamw8bit_update")),
        Map.entry("philox", List.of("random_uniform", "random_normal")),
        Map.entry("conv", variants("conv_pack", "conv_scatter")),
        Map.entry("attention", variants("attention_forward", "attention_forward_bias", "attention_backward_delta",
            "attention_backward")),
        Map.entry("attention_mma", List.of("attention_forward_mma_bf16", "attention_forward_mma_f16")),
        Map.entry("attention_mma_backward", List.of("attention_backward_mma_bf16", "attention_backward_mma_f16")),
        Map.entry("attention_flash_backward", List.of("attention_flash_backward_bf16_d64",
            "attention_flash_backward_bf16_d128", "attention_flash_backward_f16_d64", "attention_flash_backward_f16_d128")),
        Map.entry("attention_flash", List.of("attention_flash_forward_bf16_d64", "attention_flash_forward_bf16_d128",
            "attention_flash_forward_f16_d64", "attention_flash_forward_f16_d128")));

    /** The names plus the {@code _vec} twin of each {@code _f32} kernel (loraid_vec.cuh). */
    private static List<String> withVec(List<String> names) {
        List<String> out = new ArrayList<>(names);
        names.stream().filter(n -> n.endsWith("_f32")).forEach(n -> out.add(n.replace("_f32", "_vec")));
        return out;
    }

    private static List<String> withList(List<String> names, String... more) {
        List<String> out = new ArrayList<>(names);
        out.addAll(List.of(more));
        return out;
    }

    private static List<String> variants(String... names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            out.add(n + "_f32");
            out.add(n + "_f64");
        }
        return out;
    }

    static Optional<Path> nvcc() {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isBlank()) {
                candidates.add(Path.of(dir, "nvcc"));
            }
        }
        String home = System.getenv("CUDA_HOME");
        if (home != null) {
            candidates.add(Path.of(home, "bin", "nvcc"));
        }
        candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    @BeforeAll
    static void compileAll() throws Exception {
        assumeTrue(Files.isDirectory(SOURCES), "kernel sources not found at " + SOURCES.toAbsolutePath()
            + ": run from the repository root or the tensor module");
        Optional<Path> nvcc = nvcc();
        if (nvcc.isEmpty()) {
            nvccProblem = "nvcc not found on PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin: CUDA sources not compile-checked";
            return;
        }
        Files.createDirectories(OUT);
        List<String> failures = new ArrayList<>();
        // a few at a time: nvcc is slow, and the build machine may be small
        int parallel = Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors() / 2));
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(parallel)) {
            List<java.util.concurrent.Future<?>> jobs = new ArrayList<>();
            for (String module : CudaKernels.SOURCES) {
                jobs.add(pool.submit(() -> {
                    Path ptx = OUT.resolve(module + ".ptx");
                    ProcessBuilder pb = new ProcessBuilder(nvcc.get().toString(), "-ptx", "-arch=sm_90", "-std=c++17",
                        "-I", SOURCES.toString(), "-o", ptx.toString(), SOURCES.resolve(module + ".cu").toString())
                        .redirectErrorStream(true);
                    Process p = pb.start();
                    String log = new String(p.getInputStream().readAllBytes());
                    if (p.waitFor() != 0) {
                        synchronized (failures) {
                            failures.add(module + ".cu:\n" + log);
                        }
                    } else {
                        PTX.put(module, Files.readString(ptx));
                    }
                    return null;
                }));
            }
            for (var j : jobs) {
                j.get();
            }
        }
        if (!failures.isEmpty()) {
            throw new AssertionError("nvcc -ptx -arch=sm_90 failed:\n" + String.join("\n", failures));
        }
    }

    @Test
    void everyKernelSourceIsListedAndCompiles() throws IOException {
        assumeTrue(nvccProblem == null, nvccProblem);
        Set<String> onDisk = new TreeSet<>();
        try (Stream<Path> s = Files.list(SOURCES)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                .forEach(n -> onDisk.add(n.substring(0, n.length() - 3)));
        }
        assertEquals(onDisk, new TreeSet<>(CudaKernels.SOURCES), "CudaKernels.SOURCES must list every .cu file");
        assertEquals(onDisk, new TreeSet<>(PTX.keySet()));
    }

    @Test
    void ptxExportsEveryLaunchedKernel() {
        assumeTrue(nvccProblem == null, nvccProblem);
        Pattern entry = Pattern.compile("\\.visible \\.entry (\\w+)\\(");
        for (Map.Entry<String, List<String>> e : ENTRIES.entrySet()) {
            Set<String> found = new TreeSet<>();
            Matcher m = entry.matcher(PTX.get(e.getKey()));
            while (m.find()) {
                found.add(m.group(1));
            }
            assertEquals(new TreeSet<>(e.getValue()), found, "entry points of " + e.getKey() + ".cu");
        }
    }

    @Test
    void kernelEnumsFollowTheJavaEnums() throws IOException {
        assertEquals(names(DType.values()), enumBody("loraid_common.cuh", "DTypeCode", "DT_"));
        assertEquals(names(UnaryOp.values()), enumBody("elementwise.cu", "UnaryCode", "U_"));
        assertEquals(names(BinaryOp.values()), enumBody("elementwise.cu", "BinaryCode", "B_"));
        assertEquals(names(ReduceOp.values()), enumBody("reduce.cu", "ReduceCode", "R_"));
    }

    @Test
    void jarShipsTheSourcesCompiledHere() throws IOException {
        for (String module : CudaKernels.SOURCES) {
            assertEquals(Files.readString(SOURCES.resolve(module + ".cu")), CudaKernels.source(module + ".cu"));
        }
        for (String header : CudaKernels.HEADERS) {
            assertEquals(Files.readString(SOURCES.resolve(header)), CudaKernels.source(header));
        }
        try (Stream<Path> s = Files.list(SOURCES)) {
            assertEquals(new TreeSet<>(CudaKernels.HEADERS), s.map(p -> p.getFileName().toString())
                .filter(n -> n.endsWith(".cuh")).collect(java.util.stream.Collectors.toCollection(TreeSet::new)),
                "CudaKernels.HEADERS must list every header (NVRTC sees only those)");
        }
    }

    @Test
    void layoutStructMatchesThePackedSize() throws IOException {
        String header = Files.readString(SOURCES.resolve("loraid_common.cuh"));
        assertTrue(header.contains("#define LD_MAX_DIMS " + CudaLayout.MAX_DIMS), "LD_MAX_DIMS must equal CudaLayout.MAX_DIMS");
        assertEquals(8L * 8 * 2 + 4 + 4, CudaLayout.BYTES);
    }

    private static List<String> names(Enum<?>[] values) {
        return Arrays.stream(values).map(Enum::name).toList();
    }

    private static List<String> enumBody(String file, String name, String prefix) throws IOException {
        String src = Files.readString(SOURCES.resolve(file));
        Matcher m = Pattern.compile("enum " + name + "\\s*\\{([^}]*)}").matcher(src);
        assertTrue(m.find(), "enum " + name + " in " + file);
        return Arrays.stream(m.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty())
            .map(s -> s.startsWith(prefix) ? s.substring(prefix.length()) : s).toList();
    }
}
