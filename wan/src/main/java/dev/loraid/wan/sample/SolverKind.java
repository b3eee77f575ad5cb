package dev.loraid.wan.sample;

import java.util.Arrays;
import java.util.Locale;

/** The three {@code --sample_solver} values (spec training.md §6.3, §6.4), with their schedules. */
public enum SolverKind {
    /** UniPC bh2, order 2 with the UniC corrector, x0 prediction (the default). */
    UNIPC("unipc"),
    /** DPM-Solver++ 2M, midpoint. */
    DPMPP("dpm++"),
    /** Euler (FlowMatchDiscreteScheduler). */
    VANILLA("vanilla");

    private final String flagValue;

    SolverKind(String flagValue) {
        this.flagValue = flagValue;
    }

    /** The name upstream's {@code --sample_solver} uses. */
    public String flagValue() {
        return flagValue;
    }

    /** The kind named {@code name} (upstream's spelling, case-insensitive); throws listing the names. */
    public static SolverKind parse(String name) {
        for (SolverKind k : values()) {
            if (k.flagValue.equalsIgnoreCase(name.strip())) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown solver '" + name + "' (known: "
                + String.join(", ", Arrays.stream(values()).map(SolverKind::flagValue).toList()) + ")");
    }

    /** The σ table and DiT timesteps of {@code steps} steps at {@code shift}. */
    public FlowSchedule schedule(int steps, double shift) {
        return switch (this) {
            case UNIPC -> FlowSchedule.unipc(steps, shift);
            case DPMPP -> FlowSchedule.dpmpp(steps, shift);
            case VANILLA -> FlowSchedule.vanilla(steps, shift);
        };
    }

    /** A fresh solver run over {@code schedule}. */
    public FlowSolver start(FlowSchedule schedule) {
        return switch (this) {
            case UNIPC -> new UniPcSolver(schedule);
            case DPMPP -> new DpmSolver(schedule);
            case VANILLA -> new EulerSolver(schedule);
        };
    }

    @Override
    public String toString() {
        return flagValue.toLowerCase(Locale.ROOT);
    }
}
