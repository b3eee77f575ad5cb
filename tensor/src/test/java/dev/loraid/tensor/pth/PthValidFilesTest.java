package dev.loraid.tensor.pth;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.TensorSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static dev.loraid.tensor.pth.PthFixtures.GOLDEN;
import static dev.loraid.tensor.pth.PthFixtures.assertSameTensors;
import static dev.loraid.tensor.pth.PthFixtures.pth;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The valid fixtures of testdata/pth/README.md load with exactly the expected tensors. */
class PthValidFilesTest {

    @Test
    void vaeFloat32ZipIsBitEqualToTheGoldenWeights() throws IOException {
        try (SafetensorsFile golden = SafetensorsFile.open(GOLDEN.resolve("vae_tiny_weights.safetensors"));
             PthFile f = PthFile.open(pth("vae_tiny_f32.pth"))) {
            assertEquals(146, f.names().size());
            assertSameTensors(golden, f, false);
            Tensor t = f.tensor(f.names().getFirst());
            assertTrue(t.storage().segment().isMapped(), "a view of the mapped file, not a heap copy");
        }
    }

    @Test
    void vaeBfloat16ZipIsTheGoldenWeightsRoundedToBf16() throws IOException {
        try (SafetensorsFile golden = SafetensorsFile.open(GOLDEN.resolve("vae_tiny_weights.safetensors"));
             PthFile f = PthFile.open(pth("vae_tiny_bf16.pth"))) {
            assertEquals(146, f.names().size());
            assertSameTensors(golden, f, true);
        }
    }

    @Test
    void umt5Bfloat16ZipIsTheGoldenWeightsRoundedToBf16() throws IOException {
        try (SafetensorsFile golden = SafetensorsFile.open(GOLDEN.resolve("umt5_tiny_weights.safetensors"));
             PthFile f = PthFile.open(pth("umt5_tiny_bf16.pth"))) {
            assertEquals(22, f.names().size());
            assertSameTensors(golden, f, true);
        }
    }

    @Test
    void vaeFloat32LegacyIsBitEqualToTheGoldenWeights() throws IOException {
        try (SafetensorsFile golden = SafetensorsFile.open(GOLDEN.resolve("vae_tiny_weights.safetensors"));
             PthFile legacy = PthFile.open(pth("vae_tiny_f32_legacy.pth"));
             PthFile zip = PthFile.open(pth("vae_tiny_f32.pth"))) {
            assertSameTensors(golden, legacy, false);
            assertEquals(zip.names(), legacy.names(), "both layouts keep state_dict() order");
        }
    }

    @Test
    void viewsApplyStorageOffsetAndStridesOverOneSharedStorage() throws IOException {
        try (SafetensorsFile expected = SafetensorsFile.open(pth("views_shared_storage_expected.safetensors"));
             PthFile f = PthFile.open(pth("views_shared_storage.pth"))) {
            assertSameTensors(expected, f, false);
            assertEquals(List.of("matrix", "row_slice", "transposed", "strided", "scalar", "int64", "float16", "bfloat16",
                "bool", "uint8", "empty"), f.names());
            Tensor matrix = f.tensor("matrix");
            Tensor transposed = f.tensor("transposed");
            Tensor strided = f.tensor("strided");
            assertEquals(matrix.storage().segment().address(), transposed.storage().segment().address(), "one storage, no copies");
            assertEquals(matrix.storage().segment().address(), f.tensor("row_slice").storage().segment().address());
            assertEquals(6, f.tensor("row_slice").offset());
            assertArrayEquals(new long[] {1, 6}, transposed.strides());
            assertEquals(6, strided.offset());
            assertArrayEquals(new long[] {6, 2}, strided.strides());
            assertEquals(Shape.of(), f.tensor("scalar").shape());
            assertEquals(DType.I64, f.tensor("int64").dtype());
            assertEquals(DType.BOOL, f.tensor("bool").dtype());
            assertEquals(DType.U8, f.tensor("uint8").dtype());
            assertEquals(Shape.of(0, 3), f.tensor("empty").shape());
            // info: the first element's file offset, numel × element size
            assertEquals(f.info("matrix").begin() + 6 * 4, f.info("row_slice").begin());
            assertEquals(6 * 4, f.info("row_slice").byteSize());
            assertEquals(0, f.info("empty").byteSize());
        }
    }

    @Test
    void tensorSourceOpensPthFilesAndViewsDieWithTheFile() throws IOException {
        TensorSource src = TensorSource.open(pth("views_shared_storage.pth"));
        assertInstanceOf(PthFile.class, src);
        Tensor m = src.tensor("matrix");
        try (SafetensorsFile expected = SafetensorsFile.open(pth("views_shared_storage_expected.safetensors"))) {
            assertEquals(expected.tensor("matrix").getDouble(2, 5), m.getDouble(2, 5));
        }
        src.close();
        assertThrows(IllegalStateException.class, () -> src.tensor("matrix"));
        assertThrows(IllegalStateException.class, () -> m.getDouble(0, 0));
    }
}
