package dev.loraid.tensor.cuda;

import dev.loraid.tensor.ConvGeometry;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA convolution's host side, without a GPU: the kernels' index arithmetic run on the CPU against a direct
 * convolution (tensor/src/test/cuda/conv_index_check.cu, built by nvcc as a host program; skipped where nvcc is
 * absent), the {@code ConvGeom} struct as the kernels declare it and as {@link CudaConv#pack} writes it, the GEMM
 * operand dtypes, and the tile views over the flat scratch.
 */
class CudaConvTest {
    private static final Path MODULE = Files.isDirectory(Path.of("src/main/cuda")) ? Path.of(".") : Path.of("tensor");

    @Test
    void kernelIndexArithmeticMatchesADirectConvolution() throws IOException, InterruptedException {
        Optional<Path> nvcc = CudaSourcesTest.nvcc();
        assumeTrue(nvcc.isPresent(), "nvcc not found: conv.cu's index arithmetic not checked on the host");
        Path out = MODULE.resolve("target/cuda-host");
        Files.createDirectories(out);
        Path exe = out.resolve("conv_index_check");
        Process build = new ProcessBuilder(nvcc.get().toString(), "-std=c++17", "-I",
            MODULE.resolve("src/main/cuda").toString(), "-o", exe.toString(),
            MODULE.resolve("src/test/cuda/conv_index_check.cu").toString()).redirectErrorStream(true).start();
        String buildLog = new String(build.getInputStream().readAllBytes());
        assertTrue(build.waitFor(300, TimeUnit.SECONDS), "nvcc did not finish");
        assertEquals(0, build.exitValue(), "nvcc conv_index_check.cu:\n" + buildLog);
        Process run = new ProcessBuilder(exe.toString()).redirectErrorStream(true).start();
        String log = new String(run.getInputStream().readAllBytes());
        assertTrue(run.waitFor(120, TimeUnit.SECONDS), "conv_index_check did not finish");
        assertEquals(0, run.exitValue(), log);
        // 5 geometries × 3 tile sizes, each comparing out, dx and dW
        assertTrue(log.contains("conv index check: 15 cases, all OK"), log);
    }

    @Test
    void geometryStructFollowsTheKernelsDeclaration() throws IOException {
        String src = Files.readString(MODULE.resolve("src/main/cuda/conv.cu"));
        Matcher m = Pattern.compile("struct ConvGeom \\{([^}]*)}").matcher(src);
        assertTrue(m.find(), "struct ConvGeom in conv.cu");
        List<String> fields = Arrays.stream(m.group(1).replace("int", "").split("[,;]")).map(String::trim)
            .filter(f -> !f.isEmpty()).toList();
        assertEquals(List.of("I", "T", "H", "W", "kt", "kh", "kw", "st", "sh", "sw", "front", "top", "left", "To", "Ho",
            "Wo"), fields);
        assertEquals(fields.size() * 4L, CudaConv.GEOMETRY_BYTES);
        // x [2, 3, 4, 5, 6], weight [4, 3, 3, 2, 3], stride (1, 2, 1), padding (2, 0, 1, 0, 1, 1):
        // To = (4 + 2 − 3) / 1 + 1 = 4, Ho = (5 + 1 − 2) / 2 + 1 = 3, Wo = (6 + 2 − 3) / 1 + 1 = 6
        ConvGeometry g = ConvGeometry.of(Tensor.empty(DType.F32, 2, 3, 4, 5, 6), Tensor.empty(DType.F32, 4, 3, 3, 2, 3),
            null, new int[] {1, 2, 1}, new int[] {2, 0, 1, 0, 1, 1}, Tensor.empty(DType.F32, 2, 4, 4, 3, 6));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = CudaConv.pack(a, g);
            assertEquals(CudaConv.GEOMETRY_BYTES, s.byteSize());
            int[] got = s.toArray(ValueLayout.JAVA_INT);
            assertArrayEquals(new int[] {3, 4, 5, 6, 3, 2, 3, 1, 2, 1, 2, 1, 1, 4, 3, 6}, got);
        }
    }

    @Test
    void gemmOperandsAreExactWideningsOrTheSixteenBitTypeBothShare() {
        assertEquals(DType.BF16, CudaConv.gemmType(DType.BF16, DType.BF16, false));
        assertEquals(DType.F16, CudaConv.gemmType(DType.F16, DType.F16, false));
        assertEquals(DType.F32, CudaConv.gemmType(DType.BF16, DType.F32, false));
        assertEquals(DType.F32, CudaConv.gemmType(DType.BF16, DType.F16, false));
        assertEquals(DType.F32, CudaConv.gemmType(DType.F8_E4M3, DType.F8_E4M3, false));
        assertEquals(DType.F32, CudaConv.gemmType(DType.F32, DType.F32, false));
        // F64 inputs in a call that is not all-F64 run in fp32, as on the CPU
        assertEquals(DType.F32, CudaConv.gemmType(DType.F64, DType.F64, false));
        assertEquals(DType.F64, CudaConv.gemmType(DType.F64, DType.F64, true));
    }

    @Test
    void tileMatricesAreContiguousViewsOfTheScratchFront() {
        Tensor flat = Tensor.empty(DType.F32, 100);
        Tensor m = CudaConv.matrix(flat, 6, 7);
        assertArrayEquals(new long[] {6, 7}, m.shape().toArray());
        assertArrayEquals(new long[] {7, 1}, m.strides());
        assertEquals(flat.offset(), m.offset());
        assertTrue(m.storage() == flat.storage());
    }
}
