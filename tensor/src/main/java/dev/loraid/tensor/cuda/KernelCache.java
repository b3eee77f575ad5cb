package dev.loraid.tensor.cuda;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

/**
 * On-disk cache of compiled kernels: a CUBIN is stored under the SHA-256 of everything that determines it
 * (source, headers, compiler options, NVRTC version), so a changed kernel or driver recompiles and an unchanged
 * one loads in milliseconds. Files are written whole (temp file, fsync, atomic rename); an unwritable cache folder
 * only costs the recompile.
 */
final class KernelCache {
    private final Path dir;

    KernelCache(Path dir) {
        this.dir = dir;
    }

    /** {@code -Dloraid.cuda.cache}, else {@code $XDG_CACHE_HOME/loraid/cuda}, else {@code ~/.cache/loraid/cuda}. */
    static Path defaultDir() {
        String prop = System.getProperty("loraid.cuda.cache");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("loraid").resolve("cuda");
    }

    /** The cache key of one compile: hex SHA-256 over every input, each length-prefixed. */
    static String key(String name, String source, List<String> headers, List<String> options, String compilerVersion) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String part : concat(name, source, headers, options, compilerVersion)) {
                byte[] b = part.getBytes(StandardCharsets.UTF_8);
                md.update(Long.toString(b.length).getBytes(StandardCharsets.US_ASCII));
                md.update((byte) ':');
                md.update(b);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static List<String> concat(String name, String source, List<String> headers, List<String> options,
                                       String version) {
        java.util.ArrayList<String> all = new java.util.ArrayList<>();
        all.add(name);
        all.add(source);
        all.addAll(headers);
        all.add("--options--");
        all.addAll(options);
        all.add(version);
        return all;
    }

    /** The cached binary for {@code key}, or {@code compile}'s result, stored for next time. */
    byte[] getOrCompile(String name, String key, Supplier<byte[]> compile) {
        Path file = dir.resolve(name.replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + key.substring(0, 24) + ".cubin");
        try {
            if (Files.isRegularFile(file)) {
                return Files.readAllBytes(file);
            }
        } catch (IOException e) {
            // unreadable entry: recompile
        }
        byte[] bin = compile.get();
        store(file, bin);
        return bin;
    }

    private static void store(Path file, byte[] bin) {
        Path tmp = null;
        try {
            Files.createDirectories(file.getParent());
            tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(bin));
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            System.getLogger(KernelCache.class.getName()).log(System.Logger.Level.WARNING,
                "cannot write kernel cache " + file + " (" + e + "); kernels will be recompiled next run");
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }
}
