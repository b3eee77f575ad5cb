package dev.loraid.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * File systems of a test's own, mounted over folders of its temp dir: a small tmpfs (a disk that fills up for real)
 * and a read-only bind mount. Mounting needs Linux and root (CAP_SYS_ADMIN); each method returns null when mounted,
 * else why not, for the test to skip with. {@link #close} unmounts in reverse order.
 */
final class Mounts implements AutoCloseable {
    private final Deque<Path> mounted = new ArrayDeque<>();

    /** A tmpfs of {@code bytes} (whole pages) at the existing, empty folder {@code at}. */
    String tmpfs(Path at, long bytes) {
        return mount(at, List.of("mount", "-t", "tmpfs", "-o", "size=" + bytes + ",mode=0755", "loraid-test", at.toString()));
    }

    /** {@code source}'s contents, read-only, at the existing folder {@code at}. */
    String readOnly(Path source, Path at) {
        String problem = mount(at, List.of("mount", "--bind", source.toString(), at.toString()));
        if (problem != null) {
            return problem;
        }
        // a bind mount takes the read-only flag only on a remount
        String ro = run(List.of("mount", "-o", "remount,bind,ro", at.toString()));
        return ro == null ? null : "mount -o remount,bind,ro failed: " + ro;
    }

    private String mount(Path at, List<String> cmd) {
        if (!System.getProperty("os.name").equals("Linux")) {
            return "mounting a test file system needs Linux (this is " + System.getProperty("os.name") + ")";
        }
        String problem = run(cmd);
        if (problem != null) {
            return String.join(" ", cmd.subList(0, 3)) + " is not permitted here (needs root): " + problem;
        }
        mounted.push(at);
        return null;
    }

    /** Runs a command; null if it exited 0, else its output and exit code. */
    private static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int code = p.waitFor();
            return code == 0 ? null : "exit " + code + (out.isEmpty() ? "" : ": " + out);
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public void close() {
        List<String> failed = new ArrayList<>();
        while (!mounted.isEmpty()) {
            Path at = mounted.pop();
            // lazily if busy: the folder is detached now and freed when the last file in it is closed
            if (run(List.of("umount", at.toString())) != null && run(List.of("umount", "-l", at.toString())) != null) {
                failed.add(at.toString());
            }
        }
        if (!failed.isEmpty()) {
            throw new IllegalStateException("cannot unmount " + failed);
        }
    }
}
