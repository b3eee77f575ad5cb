package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads every golden file and writes it back: the bytes must be identical. */
class SafetensorsGoldenTest {
    static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");

    static List<Path> goldenFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(GOLDEN, "*.safetensors")) {
            ds.forEach(files::add);
        }
        files.sort(null);
        return files;
    }

    @Test
    void everyGoldenFileRoundTripsByteForByte(@TempDir Path tmp) throws IOException {
        List<Path> files = goldenFiles();
        assertTrue(files.size() >= 20, "golden files found: " + files.size());
        for (Path in : files) {
            Path out = tmp.resolve(in.getFileName());
            try (SafetensorsFile f = SafetensorsFile.open(in)) {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                for (String n : f.names()) {
                    tensors.put(n, f.tensor(n));
                }
                SafetensorsWriter.write(out, tensors, f.metadata());
            }
            assertArrayEquals(Files.readAllBytes(in), Files.readAllBytes(out), in.getFileName() + " differs after a round trip");
        }
    }

    @Test
    void dtypesFileDecodesToTheExpectedValues() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(GOLDEN.resolve("dtypes.safetensors"))) {
            assertEquals(List.of("bf16", "bf16_as_f32", "f16", "f32", "f64", "i64", "matrix_f32", "scalar_f32"), f.names());
            assertEquals("", f.metadata().get("empty_value"));
            assertEquals(DType.BF16, f.info("bf16").dtype());
            assertEquals(Shape.of(12), f.info("bf16").shape());

            double[] f64 = f.tensor("f64").toDoubleArray();
            double[] f32 = f.tensor("f32").toDoubleArray();
            double[] bf16 = f.tensor("bf16").toDoubleArray();
            double[] bf16AsF32 = f.tensor("bf16_as_f32").toDoubleArray();
            double[] f16 = f.tensor("f16").toDoubleArray();
            assertEquals(12, f64.length);
            for (int i = 0; i < f64.length; i++) {
                assertEquals((float) f64[i], f32[i], "f32[" + i + "] is f64 rounded to float");
                // bf16_as_f32 is the file's expected decode; our decode of the bf16 bits must match it exactly
                assertEquals(bf16AsF32[i], bf16[i], "bf16[" + i + "]");
                // and the bf16 bits are f64 rounded to nearest-even bf16
                assertEquals(bf16AsF32[i], dev.loraid.tensor.MiniFloats.bf16ToFloat(dev.loraid.tensor.MiniFloats.doubleToBf16(f64[i])),
                    "bf16 encode of f64[" + i + "] = " + f64[i]);
            }
            // f16 holds the values that fit in f16: each is f64[j] rounded to f16 for some j, in order
            int j = 0;
            for (double h : f16) {
                while (j < f64.length && Float.float16ToFloat(Float.floatToFloat16((float) f64[j])) != h) {
                    j++;
                }
                assertTrue(j < f64.length, "f16 value " + h + " is not a rounding of any f64 value in order");
                j++;
            }
            // I64 beyond 2^53 must come through exactly: compare with the raw little-endian bytes of the file
            Tensor i64 = f.tensor("i64");
            java.nio.ByteBuffer raw = java.nio.ByteBuffer.wrap(Files.readAllBytes(f.path())).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            TensorInfo info = f.info("i64");
            assertEquals(5, i64.numel());
            for (int i = 0; i < 5; i++) {
                assertEquals(raw.getLong((int) (f.header().dataStart() + info.begin()) + 8 * i), i64.getLong(i));
            }
            assertEquals(-(1L << 62), i64.getLong(4));
            assertEquals(Shape.of(), f.info("scalar_f32").shape());
            assertEquals(2.0, f.tensor("scalar_f32").getDouble());
            Tensor m = f.tensor("matrix_f32");
            assertEquals(Shape.of(2, 3), m.shape());
            for (int r = 0; r < 2; r++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(r * 3 + c, m.getDouble(r, c));
                }
            }
        }
    }
}
