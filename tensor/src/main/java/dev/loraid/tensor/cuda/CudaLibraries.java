package dev.loraid.tensor.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the CUDA shared libraries at run time, without JNI and without Python. Each library is looked for, in
 * this order, in: the folders of {@code -Dloraid.cuda.libpath} (path-separated), {@code $LD_LIBRARY_PATH}, the
 * pip wheel layout ({@code site-packages/nvidia/<pkg>/lib/} and {@code nvidia/cu13/lib/} under
 * {@code $VIRTUAL_ENV}, {@code $CONDA_PREFIX}, {@code ~/.local} and the system Python folders),
 * {@code $CUDA_HOME/lib64} and {@code /usr/local/cuda/lib64}; finally the plain soname is handed to the system
 * loader ({@code ldconfig} cache), which is how the driver's {@code libcuda.so.1} is usually found. A library
 * that is nowhere fails with a message listing every place searched.
 */
public final class CudaLibraries {
    /** A library by its sonames, newest first; {@code pipPackage} is its folder under {@code site-packages/nvidia/}. */
    public record Library(String displayName, List<String> sonames, String pipPackage) {
    }

    public static final Library DRIVER = new Library("CUDA driver", List.of("libcuda.so.1", "libcuda.so"), null);
    public static final Library NVRTC = new Library("NVRTC",
        List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"), "cuda_nvrtc");
    public static final Library CUBLASLT = new Library("cuBLASLt",
        List.of("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"), "cublas");
    /** cuDNN 9 (optional: only the CUDNN attention path uses it); its sub-libraries live beside it ({@link CuDnn#load}). */
    public static final Library CUDNN = new Library("cuDNN", List.of("libcudnn.so.9"), "cudnn");

    /** Thrown when a library is in none of the searched places. */
    public static final class NotFoundException extends RuntimeException {
        NotFoundException(String message) {
            super(message);
        }
    }

    private final List<Path> folders;

    /** @param folders the folders to search, in order (see {@link #searchFolders}) */
    public CudaLibraries(List<Path> folders) {
        this.folders = List.copyOf(folders);
    }

    /** The search order of this process: system properties, environment and home folder. */
    public static CudaLibraries fromEnvironment() {
        return new CudaLibraries(searchFolders(System.getProperty("loraid.cuda.libpath"), System.getenv(),
            Path.of(System.getProperty("user.home", "/nonexistent")), List.of(Path.of("/usr/local/lib"),
                Path.of("/usr/lib"), Path.of("/opt/conda/lib"))));
    }

    /**
     * The folders to search, in order, without duplicates.
     *
     * @param libpathProperty value of {@code -Dloraid.cuda.libpath}, or null
     * @param env             the environment ({@code LD_LIBRARY_PATH}, {@code VIRTUAL_ENV}, {@code CONDA_PREFIX},
     *                        {@code CUDA_HOME}, {@code CUDA_PATH})
     * @param pythonRoots     prefixes whose {@code python3.*}/{@code {site,dist}-packages} may hold the wheels
     */
    public static List<Path> searchFolders(String libpathProperty, Map<String, String> env, Path home,
                                           List<Path> pythonRoots) {
        Set<Path> out = new LinkedHashSet<>();
        addPathList(out, libpathProperty);
        addPathList(out, env.get("LD_LIBRARY_PATH"));
        List<Path> roots = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                roots.add(Path.of(v, "lib"));
            }
        }
        roots.add(home.resolve(".local/lib"));
        roots.addAll(pythonRoots);
        for (Path root : roots) {
            for (Path sitePackages : sitePackages(root)) {
                out.addAll(wheelLibFolders(sitePackages.resolve("nvidia")));
            }
        }
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                out.add(Path.of(v, "lib64"));
            }
        }
        out.add(Path.of("/usr/local/cuda/lib64"));
        return List.copyOf(out);
    }

    private static void addPathList(Set<Path> out, String list) {
        if (list == null) {
            return;
        }
        for (String p : list.split(java.io.File.pathSeparator)) {
            if (!p.isBlank()) {
                out.add(Path.of(p.trim()));
            }
        }
    }

    /** {@code root/python3.*}/{@code site-packages} and {@code dist-packages}, plus {@code root/python3/dist-packages}. */
    private static List<Path> sitePackages(Path root) {
        List<Path> out = new ArrayList<>();
        for (Path py : children(root, "python3*")) {
            for (String kind : List.of("site-packages", "dist-packages")) {
                Path p = py.resolve(kind);
                if (Files.isDirectory(p)) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    /** Every {@code nvidia/<pkg>/lib} (CUDA 12 wheels) and {@code nvidia/<pkg>/<sub>/lib} folder (CUDA 13's cu13/). */
    private static List<Path> wheelLibFolders(Path nvidia) {
        List<Path> out = new ArrayList<>();
        for (Path pkg : children(nvidia, "*")) {
            if (Files.isDirectory(pkg.resolve("lib"))) {
                out.add(pkg.resolve("lib"));
            }
            for (Path sub : children(pkg, "*")) {
                if (Files.isDirectory(sub.resolve("lib"))) {
                    out.add(sub.resolve("lib"));
                }
            }
        }
        return out;
    }

    private static List<Path> children(Path dir, String glob) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            // an unreadable folder is simply not searched
        }
        out.sort(null);
        return out;
    }

    public List<Path> folders() {
        return folders;
    }

    /** The first file named by one of the library's sonames in the search folders (sonames in order of preference). */
    public Optional<Path> locate(Library lib) {
        for (String soname : lib.sonames()) {
            for (Path dir : folders) {
                Path f = dir.resolve(soname);
                if (Files.isRegularFile(f)) {
                    return Optional.of(f);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Loads the library into the global arena (it stays loaded for the life of the process): from the first file
     * found by {@link #locate}, else by soname through the system loader.
     */
    public SymbolLookup load(Library lib) {
        Optional<Path> file = locate(lib);
        if (file.isPresent()) {
            try {
                return SymbolLookup.libraryLookup(file.get(), Arena.global());
            } catch (IllegalArgumentException e) {
                throw new NotFoundException(lib.displayName() + ": found " + file.get() + " but it does not load ("
                    + e.getMessage() + "); a missing dependency is usually fixed by adding its folder to "
                    + "-Dloraid.cuda.libpath or LD_LIBRARY_PATH");
            }
        }
        for (String soname : lib.sonames()) {
            try {
                return SymbolLookup.libraryLookup(soname, Arena.global());
            } catch (IllegalArgumentException e) {
                // try the next soname
            }
        }
        throw new NotFoundException(notFoundMessage(lib));
    }

    /** The message for a library found nowhere: what was looked for, where, and how to point at it. */
    public String notFoundMessage(Library lib) {
        StringBuilder sb = new StringBuilder();
        sb.append(lib.displayName()).append(" library not found: looked for ").append(String.join(", ", lib.sonames()))
            .append(" in ");
        if (folders.isEmpty()) {
            sb.append("no folders");
        } else {
            for (int i = 0; i < folders.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(folders.get(i));
            }
        }
        sb.append(", then through the system loader (ldconfig). ");
        if (lib.pipPackage() != null) {
            sb.append("Install it (e.g. pip wheel nvidia-").append(lib.pipPackage().replace('_', '-'))
                .append(") and/or name its folder with -Dloraid.cuda.libpath=<dir> or LD_LIBRARY_PATH.");
        } else {
            sb.append("It comes with the NVIDIA driver: is a GPU driver installed on this machine?");
        }
        return sb.toString();
    }
}
