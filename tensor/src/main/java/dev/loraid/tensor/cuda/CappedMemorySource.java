package dev.loraid.tensor.cuda;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Device memory with a ceiling below the card's ({@code -Dloraid.cuda.memory_limit=24g}): an allocation that would
 * take the bytes held from the driver over the limit fails exactly as {@code cuMemAlloc} fails on a full card
 * (CUDA_ERROR_OUT_OF_MEMORY), so a big GPU shows whether a run fits a smaller one (issue 18: the 14B step on a 24 GB
 * budget). The {@link CudaAllocator} above it reacts as it would to a real full device: it empties its cache and
 * collects unreachable blocks before giving up.
 */
final class CappedMemorySource implements CudaAllocator.Source {
    /** The system property that sets the limit: bytes, or a number with k, m, g or t (binary units, as -Xmx). */
    static final String PROPERTY = "loraid.cuda.memory_limit";

    private final CudaAllocator.Source driver;
    private final long limit;
    private final String limitText;
    private final Map<Long, Long> sizes = new HashMap<>();
    private long held;

    CappedMemorySource(CudaAllocator.Source driver, long limit, String limitText) {
        this.driver = driver;
        this.limit = limit;
        this.limitText = limitText;
    }

    /** {@code driver} capped by {@link #PROPERTY} when it is set, else {@code driver} itself. */
    static CudaAllocator.Source fromProperty(CudaAllocator.Source driver) {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) {
            return driver;
        }
        return new CappedMemorySource(driver, parse(v), v.strip());
    }

    /** "24g" → 24·2³⁰; "512m", "1t", "1000" (bytes). */
    static long parse(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        int shift = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? s : s.substring(0, s.length() - 1);
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n <= 0 || n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + text + ": expected a positive size such as 24g, 512m or "
                    + "a number of bytes");
        }
        return n << shift;
    }

    @Override
    public synchronized long alloc(long bytes) {
        if (held + bytes > limit) {
            throw new CudaException("cuMemAlloc(" + bytes + " bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): over -D" + PROPERTY
                    + "=" + limitText + " (" + held + " bytes held)");
        }
        long p = driver.alloc(bytes);
        sizes.put(p, bytes);
        held += bytes;
        return p;
    }

    @Override
    public synchronized void free(long ptr) {
        driver.free(ptr);
        Long size = sizes.remove(ptr);
        if (size != null) {
            held -= size;
        }
    }
}
