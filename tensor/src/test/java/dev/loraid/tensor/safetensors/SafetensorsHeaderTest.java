package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static dev.loraid.tensor.safetensors.SafetensorsBytes.file;
import static dev.loraid.tensor.safetensors.SafetensorsBytes.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One test per validation rule: each violation is a SafetensorsFormatException naming the file and tensor. */
class SafetensorsHeaderTest {
    private static final String A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    private static final String B = "\"b\":{\"dtype\":\"I8\",\"shape\":[2,2],\"data_offsets\":[8,12]}";

    private static void rejects(byte[] file, String tensor, String... fragments) {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> read(file));
        assertTrue(e.getMessage().startsWith(SafetensorsBytes.SOURCE + ": "), e.getMessage());
        if (tensor != null) {
            assertTrue(e.getMessage().contains("tensor '" + tensor + "'"), e.getMessage());
        }
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    @Test
    void validHeaderIsReadInDataOrder() throws IOException {
        // header order b, a; data order a, b; metadata order kept
        SafetensorsHeader h = read(file("{" + B + ",\"__metadata__\":{\"z\":\"1\",\"a\":\"\"}," + A + "}   ", 12));
        assertEquals(List.of("a", "b"), h.tensors().stream().map(TensorInfo::name).toList());
        assertEquals(List.of("z", "a"), List.copyOf(h.metadata().keySet()));
        TensorInfo b = h.tensors().get(1);
        assertEquals(new TensorInfo("b", DType.I8, Shape.of(2, 2), 8, 12), b);
        assertEquals(12, h.dataSize());
    }

    @Test
    void emptyAndZeroSizedTensorsAreAccepted() throws IOException {
        assertEquals(0, read(file("{}", 0)).tensors().size());
        SafetensorsHeader h = read(file("{\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
            + "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}", 8));
        assertEquals(List.of("e", "s"), h.tensors().stream().map(TensorInfo::name).toList());
    }

    @Test
    void lengthFieldIsChecked() {
        rejects(new byte[5], null, "too short");
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        rejects(file(h, 200_000_000L, 0), null, "100 MB");
        rejects(file(h, -1, 0), null, "18446744073709551615", "100 MB");
        rejects(file(h, 3, 0), null, "runs past the end of the file");
        rejects(file(h, 1, 1), null, "too short for a JSON object");
        rejects(file("[1,2]", 0), null, "does not start with '{'");
    }

    @Test
    void malformedJsonIsRejected() {
        rejects(file("{\"a\":1,}", 0), null, "not valid JSON", "at character");
        rejects(file("{\"a\":{\"dtype\":\"F32\"} junk", 0), null, "not valid JSON");
        rejects(file("{" + A + "," + A + "}", 8), null, "duplicate key");
        rejects(file("{\"x\":" + "[".repeat(50) + "]".repeat(50) + "}", 0), null, "nesting deeper");
        byte[] badUtf8 = {'{', '"', (byte) 0xC3, '"', ':', '1', '}'};
        rejects(file(badUtf8, badUtf8.length, 0), null, "UTF-8");
    }

    @Test
    void entriesAreChecked() {
        rejects(file("{\"a\":{\"dtype\":\"F31\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "a", "unknown dtype 'F31'");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8), "a", "unexpected field 'x'");
        rejects(file("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "a", "dtype is missing");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "a", "shape[0]");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8), "a", "non-negative integer");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8), "a", "data_offsets");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8), "a", "end before they begin");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "a", "needs 12 bytes", "span 8");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8), "a", "too large");
        rejects(file("{\"a\":3}", 0), "a", "expected an object");
        String rank65 = "[" + "1,".repeat(64) + "1]";
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":" + rank65 + ",\"data_offsets\":[0,4]}}", 4), "a", "rank 65");
    }

    @Test
    void metadataMustMapStringsToStrings() {
        rejects(file("{\"__metadata__\":{\"k\":1}}", 0), null, "__metadata__ value of 'k'", "expected a string");
        rejects(file("{\"__metadata__\":[]}", 0), null, "__metadata__ is a JSON array");
    }

    @Test
    void spansMustTileTheDataSection() {
        rejects(file("{" + A + "}", 4), "a", "run past the end of the data section");
        rejects(file("{" + A + "}", 12), null, "4 trailing bytes");
        String late = "\"b\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[9,13]}";
        rejects(file("{" + A + "," + late + "}", 13), "b", "gap", "[8, 9)");
        String overlapping = "\"b\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[6,10]}";
        rejects(file("{" + A + "," + overlapping + "}", 10), "b", "overlap", "'a'");
        String inside = "\"e\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[4,4]}";
        rejects(file("{" + A + "," + inside + "}", 8), "e", "overlap");
        String startsLate = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}";
        rejects(file("{" + startsLate + "}", 12), "a", "gap", "[0, 4)");
    }

    @Test
    void metadataOnlyFileHasNoTensors() throws IOException {
        SafetensorsHeader h = read(file("{\"__metadata__\":{\"format\":\"pt\"}}", 0));
        assertEquals(Map.of("format", "pt"), h.metadata());
        assertTrue(h.tensors().isEmpty());
    }
}
