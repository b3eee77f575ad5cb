package dev.loraid.autograd;

/**
 * Whether operations on this thread record a graph. Disabled inside {@link #noGrad()} scopes (inference,
 * optimizer updates, the first forward pass of a recomputed block), which nest:
 *
 * <pre>{@code
 * try (GradMode.Scope s = GradMode.noGrad()) {
 *     Var y = model.forward(x);   // no graph, no saved activations
 * }
 * }</pre>
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {
    }

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Disables graph recording on this thread until the returned scope closes. */
    public static Scope noGrad() {
        return set(false);
    }

    /** Re-enables graph recording inside a {@link #noGrad()} scope (used by {@link Recompute} in the backward pass). */
    public static Scope enableGrad() {
        return set(true);
    }

    private static Scope set(boolean enabled) {
        boolean[] flag = ENABLED.get();
        Scope s = new Scope(flag[0]);
        flag[0] = enabled;
        return s;
    }

    /** Restores the previous mode on close. */
    public static final class Scope implements AutoCloseable {
        private final boolean previous;

        private Scope(boolean previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            ENABLED.get()[0] = previous;
        }
    }
}
