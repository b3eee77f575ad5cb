package dev.loraid.core.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loraid.core.LoraidException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run's JSON-lines log, {@code <output_dir>/<output_name>-log.jsonl} (training.md §5.5): one object per optimizer
 * step ({@code step, epoch, loss, avr_loss, lr}) and one per validation ({@code step, val_loss}), each line flushed as
 * it is written. A resumed run first drops the lines of steps after its state, so the log of a killed-and-resumed run
 * equals that of an uninterrupted one.
 */
public final class TrainLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final BufferedWriter out;

    private TrainLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** A new log (an existing one is replaced). */
    public static TrainLog create(Path file) {
        try {
            return new TrainLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new LoraidException("cannot create the training log " + file + ": " + e.getMessage(), e);
        }
    }

    /** The log of a resumed run: lines of steps up to {@code step} are kept, later ones (and a torn last line) dropped. */
    public static TrainLog resume(Path file, long step) {
        try {
            List<String> keep = new ArrayList<>();
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    JsonNode n;
                    try {
                        n = JSON.readTree(line);
                    } catch (JsonProcessingException torn) {
                        break; // the line being written when the run was killed
                    }
                    if (n != null && n.has("step") && n.get("step").asLong() <= step) {
                        keep.add(line);
                    }
                }
            }
            Files.write(file, keep, StandardCharsets.UTF_8);
            return new TrainLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new LoraidException("cannot reopen the training log " + file + ": " + e.getMessage(), e);
        }
    }

    public void step(long step, int epoch, double loss, double avrLoss, double lr) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("epoch", epoch);
        m.put("loss", loss);
        m.put("avr_loss", avrLoss);
        m.put("lr", lr);
        write(m);
    }

    public void validation(long step, double valLoss) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("val_loss", valLoss);
        write(m);
    }

    private void write(Map<String, Object> m) {
        try {
            out.write(JSON.writeValueAsString(m));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new LoraidException("cannot write the training log " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new LoraidException("cannot close the training log " + file + ": " + e.getMessage(), e);
        }
    }
}
