package dev.loraid.tensor;

import dev.loraid.tensor.cpu.CpuBackend;
import dev.loraid.tensor.cuda.CudaBackends;

/**
 * Finds the backend of a device. The default device comes from {@code -Dloraid.device}: {@code cpu} (the
 * default), {@code cuda[:N]} (strict: using it without a usable GPU fails with the reason), or {@code auto}
 * (cuda:0 when usable, else the CPU with a warning that says why). CUDA classes load their libraries only when a
 * CUDA device is first asked for.
 */
public final class Backends {
    private static final CpuBackend CPU = new CpuBackend();

    private Backends() {
    }

    public static Backend cpu() {
        CpuBackend.requireVectorApi();
        return CPU;
    }

    /** The backend of {@code device}; for an unusable CUDA device, an {@link IllegalStateException} saying why. */
    public static Backend of(Device device) {
        CpuBackend.requireVectorApi(); // every backend converts on the host with the CPU kernels
        if (device.isCpu()) {
            return CPU;
        }
        return CudaBackends.backend(device.index());
    }

    /** The device named by {@code -Dloraid.device} ({@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto}). */
    public static Device defaultDevice() {
        return resolve(System.getProperty("loraid.device", "cpu"));
    }

    /**
     * The device {@code name} stands for, as {@code --device} and {@code -Dloraid.device} take it: {@code cpu},
     * {@code cuda}, {@code cuda:N} (strict: not checked here, see {@link #problem}), or {@code auto} (cuda:0 when
     * usable, else the CPU with a warning that says why).
     *
     * @throws IllegalArgumentException for any other name
     */
    public static Device resolve(String name) {
        if (!name.trim().equalsIgnoreCase("auto")) {
            return Device.parse(name);
        }
        String problem = CudaBackends.problem(0);
        if (problem == null) {
            return Device.cuda(0);
        }
        System.getLogger(Backends.class.getName()).log(System.Logger.Level.WARNING,
            "-Dloraid.device=auto: using the CPU, cuda:0 is not usable: " + problem);
        return Device.CPU;
    }

    /**
     * Why {@code device} cannot be used (no driver, no such GPU, a missing NVRTC or cuBLASLt), or null when its
     * backend starts; creates the backend on first use, as {@link #of} does.
     */
    public static String problem(Device device) {
        try {
            of(device);
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }
}
