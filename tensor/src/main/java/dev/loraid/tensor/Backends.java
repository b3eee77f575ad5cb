package dev.loraid.tensor;

import dev.loraid.tensor.cpu.CpuBackend;

/** Finds the backend of a device. The default device comes from {@code -Dloraid.device} (cpu when unset). */
public final class Backends {
    private static final CpuBackend CPU = new CpuBackend();

    private Backends() {
    }

    public static Backend cpu() {
        return CPU;
    }

    public static Backend of(Device device) {
        if (device.isCpu()) {
            return CPU;
        }
        throw new IllegalStateException("no backend for device " + device + ": the CUDA backend is not available");
    }

    /** The device named by {@code -Dloraid.device}, or the CPU. */
    public static Device defaultDevice() {
        return Device.parse(System.getProperty("loraid.device", "cpu"));
    }
}
