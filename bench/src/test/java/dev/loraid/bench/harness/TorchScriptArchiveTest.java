package dev.loraid.bench.harness;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TorchScriptArchiveTest {
    private static final String SOURCE = "class Sdpa(Module):\n  training : bool\n";

    @Test
    void entriesSitUnderOneFolderWithVersionFirstAndStored() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        List<Integer> methods = new ArrayList<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(TorchScriptArchive.module("Sdpa", SOURCE)))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                entries.put(e.getName(), zip.readAllBytes());
                methods.add(e.getMethod());
            }
        }
        assertEquals(List.of("sdpa/version", "sdpa/code/__torch__.py", "sdpa/data.pkl", "sdpa/constants.pkl"),
            List.copyOf(entries.keySet()));
        assertEquals(List.of(ZipEntry.STORED, ZipEntry.STORED, ZipEntry.STORED, ZipEntry.STORED), methods);
        assertEquals("3\n", new String(entries.get("sdpa/version"), StandardCharsets.US_ASCII));
        assertEquals(SOURCE, new String(entries.get("sdpa/code/__torch__.py"), StandardCharsets.UTF_8));
        assertArrayEquals(new byte[] {(byte) 0x80, 0x02, 0x29, 0x2e}, entries.get("sdpa/constants.pkl"));
    }

    /**
     * The module object byte for byte, opcodes from Python's pickletools: 80 02 PROTO 2; 63 GLOBAL
     * "__torch__\nSdpa\n"; 29 EMPTY_TUPLE; 81 NEWOBJ; 7d EMPTY_DICT; 28 MARK; 58 BINUNICODE len 8 "training";
     * 89 NEWFALSE; 75 SETITEMS; 62 BUILD; 2e STOP.
     */
    @Test
    void moduleObjectIsTheProtocol2PickleOfAnEvalModule() {
        String expected = "8002" + "63" + hex("__torch__\nSdpa\n") + "29" + "81" + "7d" + "28" + "58" + "08000000"
            + hex("training") + "89" + "75" + "62" + "2e";
        assertEquals(expected, HexFormat.of().formatHex(TorchScriptArchive.moduleObject("Sdpa")));
    }

    @Test
    void sourceMustDefineTheNamedModuleClass() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> TorchScriptArchive.module("Other", SOURCE));
        assertEquals("TorchScript source does not define 'class Other(Module):'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TorchScriptArchive.module("not-a-name", SOURCE));
    }

    private static String hex(String s) {
        return HexFormat.of().formatHex(s.getBytes(StandardCharsets.US_ASCII));
    }
}
