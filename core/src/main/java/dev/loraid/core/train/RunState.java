package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.autograd.optim.TrainingState;
import dev.loraid.core.LoraidException;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.TempFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A resumable training run on disk (training.md §5.2, done better than upstream): the folder
 * {@code <name>-step{:08d}-state} holds one {@code state.safetensors} with the LoRA weights, the optimizer state and
 * step counts, the schedule's step, and in its metadata where the run stands — global step, epoch, the next batch of
 * the epoch's order, the micro-step and sample counters every random stream is keyed by ({@link RandomStreams}), and
 * the loss window of {@code avr_loss}. With those, a resumed run repeats the uninterrupted one bit for bit.
 *
 * <p>The folder is written under a temporary name and renamed into place only when complete and synced: a run
 * killed while saving leaves the previous state intact and no half-written folder under the final name.
 *
 * @param globalStep   optimizer updates done
 * @param epoch        the epoch in progress (0-based)
 * @param nextBatch    index of the next batch in that epoch's order
 * @param microStep    micro-batches done over the run (keys the timestep, noise and dropout streams)
 * @param samplesDrawn samples noised over the run (keys the timestep-bucket pools)
 * @param seed         the run's {@code --seed}
 * @param batchesPerEpoch the epoch length the order was cut into (a resume over other data cannot repeat the run)
 * @param lossWindow   the recent losses {@code avr_loss} averages
 */
public record RunState(long globalStep, int epoch, int nextBatch, long microStep, long samplesDrawn, long seed,
        int batchesPerEpoch, List<Double> lossWindow) {
    public static final String FILE = "state.safetensors";
    private static final String PREFIX = "loraid.run.";

    public RunState {
        lossWindow = List.copyOf(lossWindow);
    }

    /**
     * Writes this state with the weights, optimizer and schedule into {@code dir}, atomically (see class doc). The
     * new folder and a replaced one are temp folders named as {@link TempFiles} names them: a shutdown hook deletes
     * them on SIGINT/SIGTERM, and the next run writing to the folder removes what a SIGKILL left.
     */
    public void save(Path dir, Map<String, Parameter> params, Optimizer optimizer, LrScheduler scheduler) {
        Path parent = dir.toAbsolutePath().getParent();
        String name = dir.getFileName().toString();
        TempFiles.removeStale(parent);
        Path tmp = parent.resolve(TempFiles.name(name));
        Path old = null;
        TempFiles.track(tmp);
        try {
            Files.createDirectory(tmp);
            TrainingState.save(tmp.resolve(FILE), params, optimizer, scheduler, metadata());
            if (Files.exists(dir)) {
                // a folder cannot be renamed over a non-empty one: the old state steps aside first (a kill right
                // here leaves no state under this name; the previous step's state is still there)
                old = parent.resolve(TempFiles.name(name));
                TempFiles.track(old);
                Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            syncFolder(parent);
            if (old != null) {
                TempFiles.deleteTree(old);
            }
        } catch (IOException e) {
            try {
                TempFiles.deleteTree(tmp);
            } catch (IOException ignored) {
                // the original failure is what matters
            }
            throw new LoraidException("cannot write run state " + dir + ": " + TempFiles.reason(e), e);
        } finally {
            TempFiles.untrack(tmp);
            if (old != null) {
                TempFiles.untrack(old);
            }
        }
    }

    /** Reads the position of the run saved in {@code dir}, without touching any weights. */
    public static RunState read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new LoraidException(named(param("TrainConfig.resume"), " " + dir + ": not a run state folder (no "
                    + FILE + " inside)"));
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> m = f.metadata();
            String window = m.getOrDefault(PREFIX + "loss_window", "");
            List<Double> losses = window.isEmpty() ? List.of() : Arrays.stream(window.split(",")).map(Double::valueOf).toList();
            return new RunState(number(m, "global_step", file), (int) number(m, "epoch", file), (int) number(m, "next_batch", file),
                    number(m, "micro_step", file), number(m, "samples_drawn", file), number(m, "seed", file),
                    (int) number(m, "batches_per_epoch", file), losses);
        } catch (IOException e) {
            throw new LoraidException(named(param("TrainConfig.resume"), " " + dir + ": cannot read " + file + ": "
                    + e.getMessage()), e);
        }
    }

    /** Restores weights, optimizer state and schedule from {@code dir} (shapes checked, errors name the keys). */
    public static void restore(Path dir, Map<String, Parameter> params, Optimizer optimizer, LrScheduler scheduler) {
        try {
            TrainingState.load(dir.resolve(FILE), params, optimizer, scheduler);
        } catch (IOException | IllegalArgumentException e) {
            throw new LoraidException(named(param("TrainConfig.resume"), " " + dir + ": " + e.getMessage()), e);
        }
    }

    private Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PREFIX + "global_step", Long.toString(globalStep));
        m.put(PREFIX + "epoch", Integer.toString(epoch));
        m.put(PREFIX + "next_batch", Integer.toString(nextBatch));
        m.put(PREFIX + "micro_step", Long.toString(microStep));
        m.put(PREFIX + "samples_drawn", Long.toString(samplesDrawn));
        m.put(PREFIX + "seed", Long.toString(seed));
        m.put(PREFIX + "batches_per_epoch", Integer.toString(batchesPerEpoch));
        m.put(PREFIX + "loss_window", String.join(",", lossWindow.stream().map(d -> Double.toString(d)).toList()));
        return m;
    }

    private static long number(Map<String, String> m, String key, Path file) {
        String v = m.get(PREFIX + key);
        if (v == null) {
            throw new LoraidException(file + ": metadata key " + PREFIX + key + " is missing (not written by loraid train?)");
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new LoraidException(file + ": metadata key " + PREFIX + key + " is '" + v + "', not an integer");
        }
    }

    /** Removes a state folder (--save_last_n_*_state). */
    public static void delete(Path dir) {
        try {
            TempFiles.deleteTree(dir);
        } catch (IOException e) {
            throw new LoraidException("cannot remove old run state " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void syncFolder(Path folder) throws IOException {
        try (FileChannel ch = FileChannel.open(folder, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
