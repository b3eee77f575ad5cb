package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loraid.wan.quant.Fp8Load;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training run with {@link LogConfig}: the event file lands in {@code <dir>/<prefix><stamp>/<tracker>} and holds, per
 * step, loss/current, loss/average and lr/unet equal (as float32) to the JSON-lines log's loss, avr_loss and lr; per
 * epoch loss/epoch at the epoch number; per validation loss/validation.
 */
class TensorBoardLogTest {
    private record Scalar(String tag, long step, float value) {
    }

    @Test
    void aRunLogsUpstreamsScalars(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 4, 2); // 2 batches per epoch: 5 steps end epochs at steps 2, 4 and 5
        TrainConfig base = TrainFixture.config(toml, dir.resolve("out"), "run", 5, TrainFixture.network(4, null, 12), null, null);
        TrainConfig c = new TrainConfig(base.dit(), null, null, false, null, toml, base.workingDir(), base.device(),
                base.mixedPrecision(), false, base.network(), base.optimizer(), base.timesteps(), 5, null, 1, base.seed(),
                base.save(), new TrainConfig.Validation(toml, 2), null, null, null, Fp8Load.NONE, 0, BaseWeights.NONE,
                new LogConfig(dir.resolve("logs"), "tiny-", null));
        Trainer.run(c, TrainListener.SILENT);

        List<Path> runs;
        try (Stream<Path> s = Files.list(dir.resolve("logs"))) {
            runs = s.toList();
        }
        assertEquals(1, runs.size());
        assertTrue(runs.getFirst().getFileName().toString().matches("tiny-\\d{14}"), runs.toString());
        List<Path> files;
        try (Stream<Path> s = Files.list(runs.getFirst().resolve("network_train"))) {
            files = s.toList();
        }
        assertEquals(1, files.size());
        List<Scalar> scalars = scalars(files.getFirst());

        // the JSON-lines log's numbers, in the run's order: a step, its validation, then its epoch's end
        List<Scalar> want = new ArrayList<>();
        Scalar epochEnd = null;
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(dir.resolve("out/run-log.jsonl"))) {
            JsonNode n = json.readTree(line);
            long step = n.get("step").asLong();
            if (n.has("val_loss")) {
                want.add(new Scalar("loss/validation", step, (float) n.get("val_loss").asDouble()));
                continue;
            }
            if (epochEnd != null) {
                want.add(epochEnd);
                epochEnd = null;
            }
            want.add(new Scalar("loss/current", step, (float) n.get("loss").asDouble()));
            want.add(new Scalar("loss/average", step, (float) n.get("avr_loss").asDouble()));
            want.add(new Scalar("lr/unet", step, (float) n.get("lr").asDouble()));
            if (step == 2 || step == 4 || step == 5) {
                epochEnd = new Scalar("loss/epoch", step == 2 ? 1 : step == 4 ? 2 : 3, (float) n.get("avr_loss").asDouble());
            }
        }
        want.add(epochEnd);
        assertEquals(want, scalars);
    }

    /**
     * The tags of each group (LoRA+'s "unet plus" beside "unet") and, for Prodigy, lr/&lt;group&gt; as the scheduled rate with
     * lr/d*lr/&lt;group&gt; as the applied one, upstream's generate_step_logs; other optimizers log the applied rate alone.
     */
    @Test
    void groupAndProdigyTags(@TempDir Path dir) throws Exception {
        double[][] lrs = {{1.0, 0.004}, {4.0, 0.016}};
        Path prodigy;
        try (TensorBoardLog log = new TensorBoardLog(dir.resolve("p"), List.of("unet", "unet plus"), "prodigyopt.Prodigy")) {
            log.step(3, 0.5, 0.6, lrs);
            prodigy = log.file();
        }
        assertEquals(List.of(new Scalar("loss/current", 3, 0.5f), new Scalar("loss/average", 3, 0.6f),
                new Scalar("lr/unet", 3, 1.0f), new Scalar("lr/d*lr/unet", 3, 0.004f), new Scalar("lr/unet plus", 3, 4.0f),
                new Scalar("lr/d*lr/unet plus", 3, 0.016f)), scalars(prodigy));
        Path adamw;
        try (TensorBoardLog log = new TensorBoardLog(dir.resolve("a"), List.of("unet", "unet plus"), "AdamW")) {
            log.step(3, 0.5, 0.6, lrs);
            adamw = log.file();
        }
        assertEquals(List.of(new Scalar("loss/current", 3, 0.5f), new Scalar("loss/average", 3, 0.6f),
                new Scalar("lr/unet", 3, 0.004f), new Scalar("lr/unet plus", 3, 0.016f)), scalars(adamw));
    }

    /** The scalar events of an event file (the framing is checked in TensorBoardEventsTest). */
    private static List<Scalar> scalars(Path file) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<Scalar> out = new ArrayList<>();
        while (b.hasRemaining()) {
            int length = Math.toIntExact(b.getLong());
            b.getInt();
            ByteBuffer event = b.slice(b.position(), length).order(ByteOrder.LITTLE_ENDIAN);
            b.position(b.position() + length + 4);
            long step = 0;
            String tag = null;
            float value = Float.NaN;
            while (event.hasRemaining()) {
                long key = varint(event);
                int field = (int) (key >>> 3);
                if (field == 1) {
                    event.getDouble();
                } else if (field == 2) {
                    step = varint(event);
                } else if (field == 3) {
                    event.position(event.position() + (int) varint(event));
                } else if (field == 5) {
                    int summaryLength = (int) varint(event);
                    ByteBuffer summary = event.slice(event.position(), summaryLength).order(ByteOrder.LITTLE_ENDIAN);
                    event.position(event.position() + summaryLength);
                    varint(summary); // Summary.value
                    int valueLength = (int) varint(summary);
                    ByteBuffer v = summary.slice(summary.position(), valueLength).order(ByteOrder.LITTLE_ENDIAN);
                    varint(v); // Value.tag
                    byte[] t = new byte[(int) varint(v)];
                    v.get(t);
                    tag = new String(t, StandardCharsets.UTF_8);
                    varint(v); // Value.simple_value
                    value = v.getFloat();
                }
            }
            if (tag != null) {
                out.add(new Scalar(tag, step, value));
            }
        }
        return out;
    }

    private static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte x = b.get();
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                return v;
            }
        }
    }
}
