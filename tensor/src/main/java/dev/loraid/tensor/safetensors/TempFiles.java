package dev.loraid.tensor.safetensors;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The temp files of {@link SafetensorsWriter}: named {@code .<output>.loraid-<pid>-<host>-<random>.tmp} in the
 * output's folder, within NAME_MAX (255 bytes) whatever the output's name (a long name is shortened in the temp
 * name, never refused because of it); deleted on error and, by a shutdown hook, on SIGINT/SIGTERM; and, since a
 * SIGKILL runs no hook, removed by the next run writing to that folder when the pid in the name is not alive on
 * this host. {@code <host>} is a hash of the host name, so a folder shared over the network never loses a temp
 * file of a live writer elsewhere. Temps in the old {@code .<output>.<hex>.tmp} form carry no owner and are left
 * alone. A temp may be a folder (a training state is written as one, {@code RunState}): it is removed with its
 * contents.
 */
public final class TempFiles {
    /** The longest file name Linux, macOS and Windows file systems accept, in bytes. */
    static final int NAME_MAX = 255;
    private static final Pattern OURS = Pattern.compile("^\\..*\\.loraid-(\\d+)-([0-9a-f]{8})-[0-9a-f]{8}\\.tmp$");
    private static final long PID = ProcessHandle.current().pid();
    private static final String HOST = hostHash();
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Temp files being written by this JVM; the shutdown hook deletes what is left of them. */
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Path p : LIVE) {
                try {
                    deleteTree(p);
                } catch (IOException e) {
                    // the next run to this folder removes it (its pid is dead by then)
                }
            }
        }, "loraid-temp-cleanup"));
    }

    private TempFiles() {
    }

    private static String hostHash() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = System.getenv().getOrDefault("HOSTNAME", "unknown");
        }
        return String.format("%08x", host.hashCode());
    }

    /** The temp name for {@code outputName}: the output's name, shortened (whole UTF-8 characters) to fit NAME_MAX. */
    public static String name(String outputName) {
        String tail = ".loraid-" + PID + "-" + HOST + "-" + String.format("%08x", RANDOM.nextInt()) + ".tmp";
        int budget = NAME_MAX - 1 - tail.getBytes(StandardCharsets.UTF_8).length;
        StringBuilder head = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < outputName.length(); ) {
            int cp = outputName.codePointAt(i);
            int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > budget) {
                break;
            }
            head.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        return "." + head + tail;
    }

    /** Why {@code out}'s file name cannot be created (over NAME_MAX bytes), or null. */
    static String nameProblem(Path out) {
        Path name = out.getFileName();
        int bytes = name == null ? 0 : name.toString().getBytes(StandardCharsets.UTF_8).length;
        return bytes > NAME_MAX ? "has a file name of " + bytes + " bytes, over the " + NAME_MAX + "-byte limit of file names" : null;
    }

    /** Registers a temp file or folder for the shutdown hook, which deletes it unless {@link #untrack} came first. */
    public static void track(Path temp) {
        LIVE.add(temp);
    }

    public static void untrack(Path temp) {
        LIVE.remove(temp);
    }

    /**
     * Deletes the temp files in {@code dir} that a writer on this host left behind when it was killed (its pid is
     * no longer alive), temp folders with their contents. Returns them; an unreadable folder or a file that cannot
     * be deleted is skipped.
     */
    public static List<Path> removeStale(Path dir) {
        List<Path> removed = new ArrayList<>();
        if (dir == null) {
            return removed;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
            for (Path p : ds) {
                Matcher m = OURS.matcher(p.getFileName().toString());
                if (m.matches() && m.group(2).equals(HOST) && !alive(Long.parseLong(m.group(1)))) {
                    try {
                        deleteTree(p);
                        removed.add(p);
                    } catch (IOException | RuntimeException e) {
                        // skipped: it stays for a later run, the others are still removed
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: a folder we cannot list is reported when the output is written
        }
        return removed;
    }

    /** Deletes a file, or a folder with everything in it (a symlink is deleted, not followed). */
    public static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                for (Path c : ds) {
                    deleteTree(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }

    private static boolean alive(long pid) {
        return pid == PID ? true : ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The cause of a file error in words: the JDK puts only the path in the message of most of them. */
    public static String reason(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
    }
}
