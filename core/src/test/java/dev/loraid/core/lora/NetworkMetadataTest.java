package dev.loraid.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.loraid.core.plan.LoraidAllocator;
import dev.loraid.tensor.json.Json;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** training.md §5.3 network keys and spec loraid.md REQ-META-1 (the user's patterns recorded in ss_network_args). */
class NetworkMetadataTest {
    @Test
    void network_keys_and_recorded_patterns() {
        String exclude = NetworkMetadata.pythonList(List.of(".*cross_attn.*", "it's"));
        assertEquals("['.*cross_attn.*', 'it\\'s']", exclude);
        assertEquals("['blocks\\\\.1\\\\..*']", NetworkMetadata.pythonList(List.of("blocks\\.1\\..*")));
        Map<String, String> m = NetworkMetadata.of(NetworkModule.LORA, 16, 8.0, 0.05, Map.of("exclude_patterns", exclude),
                Optional.of(LoraidAllocator.slice(2, 12, 40)));
        assertEquals("networks.lora_wan", m.get("ss_network_module"));
        assertEquals("16", m.get("ss_network_dim"));
        assertEquals("8.0", m.get("ss_network_alpha"));
        assertEquals(exclude, ((Map<?, ?>) Json.parse(m.get("ss_network_args"))).get("exclude_patterns"));
        assertEquals("2", m.get("ss_loraid"));
        assertEquals("23", m.get("ss_loraid_block_end"));
        Map<String, String> plain = NetworkMetadata.of(NetworkModule.LOKR, 4, 1.0, 0, Map.of(), Optional.empty());
        assertEquals("networks.lokr", plain.get("ss_network_module"));
        assertFalse(plain.containsKey("ss_network_args"));
        assertFalse(plain.keySet().stream().anyMatch(k -> k.startsWith("ss_loraid")));
    }
}
