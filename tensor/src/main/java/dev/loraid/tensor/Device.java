package dev.loraid.tensor;

/** Where a tensor's storage lives: the host, or one CUDA device. */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /** Parses {@code cpu}, {@code cuda} or {@code cuda:N}, as given to {@code --device}. */
    public static Device parse(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("cuda")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("unknown device '" + s + "' (expected cpu, cuda or cuda:N)");
    }

    public boolean isCpu() {
        return kind == Kind.CPU;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
