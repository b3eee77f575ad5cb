package dev.loraid.tensor.json;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Jazzer target for the hand-written JSON parser (safetensors headers, shard indexes, tokenizer.json all go through
 * it). Any byte string either parses or throws {@link JsonFormatException}; a parsed value written back by
 * {@link JsonWriter} parses to the same value. Regression inputs: {@code JsonFuzzTestInputs/parse/}.
 */
class JsonFuzzTest {
    @FuzzTest
    @Timeout(5) // per input: a hang is a finding
    void parse(byte[] input) {
        Object v;
        try {
            v = Json.parseUtf8(ByteBuffer.wrap(input), Json.DEFAULT_MAX_DEPTH);
        } catch (JsonFormatException e) {
            return; // the documented refusal
        }
        assertEquals(v, Json.parse(JsonWriter.compact(v), Json.DEFAULT_MAX_DEPTH), "write → parse round trip");
    }
}
