package dev.loraid.core.generate;

/**
 * Which Wan 2.2 A14B expert lives on the generation device when (training.md §6.3, §6.5). Single-DiT tasks have one
 * model and ignore it. On the CPU device a DiT's weights are mapped from its file rather than copied, so
 * {@link #OFFLOAD_INACTIVE} moves nothing there; {@link #LAZY} still opens and closes the files.
 */
public enum ExpertResidency {
    /** Both experts are opened and put on the device before the first step (upstream's default). */
    BOTH,
    /**
     * {@code --offload_inactive_dit}: both experts are opened, only the one in use is on the device; at the switch the
     * high-noise expert goes to the host and the low-noise one to the device, each with its LoRA adapters.
     */
    OFFLOAD_INACTIVE,
    /**
     * {@code --lazy_loading}: an expert is opened (with its LoRAs) when its first step comes and closed at the switch,
     * so at most one expert is open at any time.
     */
    LAZY
}
