package dev.loraid.core.merge;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A merge pass as three stages that overlap (issue 17): a reader thread reads the base's tensors ahead, in order,
 * into a few buffers; the caller merges them ({@link #next}, {@link #write}); a writer thread writes them behind,
 * in the same order, which is the output's declared order. A fourth thread flushes what the writer has written to
 * the disk every {@link #FORCE_BYTES}, so that neither the writer nor the output's final fsync waits for it all.
 * Buffers go round between the stages in bounded pools ({@link #BUFFERS} input buffers of the largest base tensor, as
 * many output buffers of the largest merged one), so memory stays at a few tensors whatever the checkpoint's size.
 *
 * <p>A failure on any helper thread stops the others and is rethrown, as it was thrown, by the caller's next call;
 * {@link #close} stops and joins the helper threads, so none outlives the pass and the output (closed after this)
 * can be discarded.
 */
final class MergePipeline implements AutoCloseable {
    /**
     * Buffers per pool: one being filled while the other is consumed. Each is the size of the largest tensor (141 MB
     * for a 14B bf16 DiT), so a third one each would cost more than it gains in slack.
     */
    static final int BUFFERS = 2;
    /**
     * Bytes written between two {@link SafetensorsWriter#force}s: the disk writes the output back while the merge goes
     * on, and the output's final fsync finds little left to flush. The flushes run on their own thread: on the
     * writer's, they held up every write behind them (40 % of its time, issue 17).
     */
    private static final long FORCE_BYTES = 256L << 20;
    /**
     * Tensors of at most this many bytes (biases, norms, modulation) are read into memory of their own, not into a
     * pooled buffer: an untouched one waits in the write queue behind the merged weights, and held a whole pooled
     * buffer meanwhile, so the reader sat idle while the merge waited for it (0.7 s of a 1.3B merge, issue 17).
     */
    static final long OWN_BUFFER_BYTES = 1 << 20;
    /** How often a waiting stage looks whether another one failed or the pass was closed. */
    private static final long POLL_MS = 10;

    /**
     * A tensor read ahead; {@code buffer} is its pooled buffer, or null for a small tensor read into memory of its own
     * and for a source that hands out its own (mapped) view. Read into memory of the pass, the tensor may be merged in
     * place and written from there ({@link #write(Read)}).
     */
    record Read(String name, Tensor tensor, MemorySegment buffer) {
    }

    /** A tensor to write and the buffers it frees once written (either may be null). */
    private record Job(String name, Tensor tensor, MemorySegment inBuffer, MemorySegment outBuffer) {
    }

    private static final Job END = new Job(null, null, null, null);

    /** Ends a helper thread quietly: the pass was closed, or another stage failed and reports it. */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super(null, null, false, false);
        }
    }

    private final Arena arena = Arena.ofShared();
    private final BlockingQueue<MemorySegment> freeIn = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<MemorySegment> freeOut = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<Read> reads = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<Job> jobs = new ArrayBlockingQueue<>(BUFFERS);
    /** Flushes asked of the sync thread: {@code true} one more, {@code false} the end; one pending is enough. */
    private final BlockingQueue<Boolean> flushes = new ArrayBlockingQueue<>(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean stopped;
    /** The thread that merges (calls {@link #next} and {@link #write}); the other two are the helpers. */
    private final Thread caller = Thread.currentThread();
    private final Thread reader;
    private final Thread writer;
    private final Thread syncer;

    /**
     * Starts reading {@code names} from {@code source} and writing what the caller hands over to {@code out};
     * {@code outBytes} is the size of the largest tensor the caller will build in an {@link #outputBuffer()} (0: none).
     */
    MergePipeline(StreamingTensorReader source, List<String> names, long outBytes, SafetensorsWriter out) {
        for (int i = 0; i < BUFFERS; i++) {
            freeIn.add(source.largestBytes() == 0 ? MemorySegment.NULL : arena.allocate(source.largestBytes(), 64));
            if (outBytes > 0) {
                freeOut.add(arena.allocate(outBytes, 64));
            }
        }
        reader = start("loraid-merge-read", () -> {
            for (String n : names) {
                long bytes = source.byteSize(n);
                MemorySegment pooled = bytes < 0 || bytes > OWN_BUFFER_BYTES ? take(freeIn) : null;
                MemorySegment into = pooled != null ? pooled : Arena.ofAuto().allocate(Math.max(1, bytes), 64);
                put(reads, new Read(n, source.read(n, into), pooled));
            }
        });
        writer = start("loraid-merge-write", () -> {
            long unforced = 0;
            for (Job j; (j = take(jobs)) != END; ) {
                unforced += out.nextEntry().byteSize();
                out.write(j.name(), j.tensor());
                release(j.inBuffer(), freeIn);
                release(j.outBuffer(), freeOut);
                if (unforced >= FORCE_BYTES) {
                    flushes.offer(true); // one already pending covers these bytes too
                    unforced = 0;
                }
            }
            put(flushes, false);
        });
        syncer = start("loraid-merge-sync", () -> {
            while (take(flushes)) {
                out.force();
            }
        });
    }

    /** The next tensor in order, once the reader thread has it. */
    Read next() throws IOException {
        return take(reads);
    }

    /** A free output buffer of {@code outBytes}, once the writer thread is done with one. */
    MemorySegment outputBuffer() throws IOException {
        return take(freeOut);
    }

    /** Gives {@code r}'s buffer back to the reader thread (its tensor is no longer needed). */
    void release(Read r) {
        release(r.buffer(), freeIn);
    }

    /**
     * Queues {@code r}'s tensor itself (as read, or merged in place) for writing; its buffer returns to the reader once
     * written.
     */
    void write(Read r) throws IOException {
        put(jobs, new Job(r.name(), r.tensor(), r.buffer(), null));
    }

    /** Queues {@code t}, built in {@code outBuffer} (from {@link #outputBuffer()}), for writing as tensor {@code name}. */
    void write(String name, Tensor t, MemorySegment outBuffer) throws IOException {
        put(jobs, new Job(name, t, null, outBuffer));
    }

    /** Waits until the writer thread has written everything queued; rethrows a failure of a helper thread. */
    void finish() throws IOException {
        put(jobs, END);
        try {
            for (Thread t : new Thread[] {writer, syncer}) {
                while (t.isAlive()) {
                    t.join(POLL_MS);
                    check();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the output to be written", e);
        }
        check();
    }

    /** Stops the helper threads (after the tensor or flush each may be at) and waits for them. */
    @Override
    public void close() {
        stopped = true;
        boolean interrupted = false;
        for (Thread t : new Thread[] {reader, writer, syncer}) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        arena.close();
    }

    private interface Stage {
        void run() throws Exception;
    }

    private Thread start(String name, Stage stage) {
        return Thread.ofPlatform().name(name).daemon().start(() -> {
            try {
                stage.run();
            } catch (Stopped s) {
                // closed, or another stage failed and reports it
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
    }

    private <T> T take(BlockingQueue<T> q) throws IOException {
        try {
            for (;;) {
                T t = q.poll(POLL_MS, TimeUnit.MILLISECONDS);
                if (t != null) {
                    return t;
                }
                check();
            }
        } catch (InterruptedException e) {
            throw interrupted(e);
        }
    }

    private <T> void put(BlockingQueue<T> q, T item) throws IOException {
        try {
            while (!q.offer(item, POLL_MS, TimeUnit.MILLISECONDS)) {
                check();
            }
        } catch (InterruptedException e) {
            throw interrupted(e);
        }
    }

    private static void release(MemorySegment buffer, BlockingQueue<MemorySegment> pool) {
        if (buffer != null) {
            pool.add(buffer); // never full: each pool holds only its own buffers
        }
    }

    /**
     * On a helper thread: ends it when the pass is closed or has failed. On the caller's: rethrows the first
     * failure of a helper thread as it was thrown (its message names the file and tensor).
     */
    private void check() throws IOException {
        Throwable f = failure.get();
        if (Thread.currentThread() != caller && (f != null || stopped)) {
            throw new Stopped();
        }
        switch (f) {
            case null -> {
            }
            case IOException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IOException(f.getMessage(), f);
        }
    }

    private IOException interrupted(InterruptedException e) {
        Thread.currentThread().interrupt();
        return new IOException("interrupted while merging", e);
    }
}
