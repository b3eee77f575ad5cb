package dev.loraid.bench.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A TorchScript archive ({@code torch.jit.save}'s format) for a module with no parameters, written without Python,
 * so that PyTorch ops DJL does not expose can be run through {@code torch::jit::load}. The layout is what
 * libtorch's reader expects (caffe2/serialize/inline_container.cc, torch/csrc/jit/serialization/import.cpp):
 * a zip whose entries all sit under one folder, with
 * <ul>
 *   <li>{@code version}: the file-format version as text (3, libtorch's produced version when no versioned
 *       operator is used; any of 1..max is read);</li>
 *   <li>{@code code/__torch__.py}: the class as TorchScript source; a class {@code __torch__.Name} is looked up
 *       in the file named by its qualifier, and the base class {@code Module} makes it a module;</li>
 *   <li>{@code data.pkl}: the module object, pickle protocol 2: {@code GLOBAL '__torch__' 'Name'}, an empty
 *       tuple, {@code NEWOBJ}, then {@code BUILD} with the dict of its attributes (here only {@code training});
 *       the unpickler sets every slot of the class from that dict;</li>
 *   <li>{@code constants.pkl}: the tensor constants of the code, an empty tuple.</li>
 * </ul>
 * Entries are stored, not deflated (libtorch's miniz reads both).
 */
public final class TorchScriptArchive {
    /** The file-format version written; torch.jit.save writes 3 unless a versioned operator (div, full) is used. */
    static final int VERSION = 3;

    private TorchScriptArchive() {
    }

    /**
     * The archive of one module {@code __torch__.<className>} in eval mode.
     *
     * @param source the class definition, {@code class <className>(Module):} with {@code training : bool} declared
     *               and its methods (TorchScript syntax, as {@code torch.jit.save} prints it)
     */
    public static byte[] module(String className, String source) {
        if (!className.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("TorchScript class name '" + className + "' is not an identifier");
        }
        if (!source.contains("class " + className + "(Module):")) {
            throw new IllegalArgumentException("TorchScript source does not define 'class " + className + "(Module):'");
        }
        String folder = className.toLowerCase(java.util.Locale.ROOT) + "/";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            // the reader takes the archive's folder from the first entry
            stored(zip, folder + "version", (VERSION + "\n").getBytes(StandardCharsets.US_ASCII));
            stored(zip, folder + "code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            stored(zip, folder + "data.pkl", moduleObject(className));
            stored(zip, folder + "constants.pkl", EMPTY_TUPLE_PICKLE);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the TorchScript archive of " + className, e);
        }
        return bytes.toByteArray();
    }

    /** Pickle protocol 2 of an empty tuple: PROTO 2, EMPTY_TUPLE, STOP. */
    static final byte[] EMPTY_TUPLE_PICKLE = {(byte) 0x80, 2, ')', '.'};

    /**
     * Pickle protocol 2 of {@code __torch__.<className>} with {@code training = False}: PROTO 2;
     * GLOBAL "__torch__\n<className>\n"; EMPTY_TUPLE; NEWOBJ; EMPTY_DICT; MARK; BINUNICODE "training"; NEWFALSE;
     * SETITEMS; BUILD; STOP.
     */
    static byte[] moduleObject(String className) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80);
        p.write(2);
        p.writeBytes(("c__torch__\n" + className + "\n").getBytes(StandardCharsets.US_ASCII));
        p.write(')');
        p.write(0x81);
        p.write('}');
        p.write('(');
        byte[] key = "training".getBytes(StandardCharsets.UTF_8);
        p.write('X');
        p.write(key.length); // BINUNICODE: 4-byte little-endian length
        p.write(0);
        p.write(0);
        p.write(0);
        p.writeBytes(key);
        p.write(0x89);
        p.write('u');
        p.write('b');
        p.write('.');
        return p.toByteArray();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
