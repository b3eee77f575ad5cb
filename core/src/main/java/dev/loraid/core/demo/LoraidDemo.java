package dev.loraid.core.demo;

import dev.loraid.core.lora.NetworkModule;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.ema.EmaRequest;
import dev.loraid.core.ema.EmaSchedule;
import dev.loraid.core.ema.EmaTool;
import dev.loraid.core.ema.EpochDiscovery;
import dev.loraid.core.ema.LoraBlend;
import dev.loraid.core.generate.Umt5TextEncoder;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.core.train.NetworkConfig;
import dev.loraid.core.train.SaveConfig;
import dev.loraid.core.train.Trainer;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * {@code loraid demo}: the LORAID story end to end on the demo's tiny Wan model, through the project's real code
 * paths only. Stages:
 * <ol>
 *   <li>text: the demo tokenizer and UMT5 encoder written as files and opened with {@link Umt5TextEncoder};</li>
 *   <li>data: one small captioned picture set per character ({@link DemoScenes#CHARACTERS}), cached in musubi's layout
 *       with a dataset TOML ({@link DemoDataset});</li>
 *   <li>LORAID training: one {@link Trainer#run} per character as LORAID 1, 2, 3 on blocks 0–1, 2–3, 4–5, a file
 *       per epoch, then post-hoc EMA over the epochs ({@link EmaTool}, as {@code loraid ema});</li>
 *   <li>ordinary training: the same runs as ordinary all-block LoRAs, and the same EMA;</li>
 *   <li>combination: the three LORAIDs are attached together as adapters (disjoint blocks); the three ordinary LoRAs
 *       overlap on every layer, which adapters refuse, so they are merged into the base with {@link LoraMerger}
 *       ({@code loraid merge}, multiplier 1 each);</li>
 *   <li>pictures: every prompt of {@link #PROMPTS} with the same seeds for every method ({@link DemoSampler}), a grid
 *       PNG and an animated GIF;</li>
 *   <li>tables: {@link CharacterDetector} scores per method and prompt, and {@link DemoInterference}'s validation losses
 *       (what combining costs each character), printed and written as {@code table.json}.</li>
 * </ol>
 */
public final class LoraidDemo {
    /** The prompts: one, two and three characters. */
    public static final List<String> PROMPTS = List.of("zorp", "blix", "quen", "zorp and blix", "blix and quen",
            "zorp and blix and quen");
    public static final List<String> METHODS = List.of("base model", "3 LoRAs merged", "3 LORAIDs");
    static final long DATA_SEED = 99;
    static final long REGULARISATION_SEED = 98;
    /** Seeds of the held-out pictures the interference table measures on (never trained on). */
    static final long HELD_OUT_SEED = 7_000;
    static final int HELD_OUT_PICTURES = 8;
    static final long TRAIN_SEED = 42;
    static final int RANK = 16;
    static final double LEARNING_RATE = 1e-2;

    /**
     * @param base  the demo DiT (the shipped one, or a rebuilt one)
     * @param out   where every output goes
     * @param quick fewer pictures, epochs and sampling steps; the same stages and outputs
     */
    public record Options(Path base, Path out, boolean quick, Device device) {
        int pictures() {
            return quick ? 8 : 96;
        }

        int epochs() {
            return quick ? 3 : 20;
        }

        int batch() {
            return 4;
        }

        int sampleSteps() {
            return quick ? 8 : 20;
        }

        List<Long> seeds() {
            return quick ? List.of(1L) : List.of(1L, 2L);
        }

        int animationSeeds() {
            return quick ? 2 : 6;
        }
    }

    /** One row of the table: mean over the seeds. {@code presence} per character, {@code leak} NaN when undefined. */
    public record Row(String method, String prompt, List<Integer> requested, double[] presence, double recognised, double leak) {
    }

    /**
     * @param interference the table of {@link DemoInterference} (lines as printed): what combining costs each character
     *                     in validation loss, per method
     */
    public record Result(List<Row> rows, List<String> interference, Path grid, Path animation, Path table, List<Path> loraids,
            List<Path> loras, double seconds) {
    }

    private LoraidDemo() {
    }

    public static Result run(Options o, Reporter out) {
        try {
            return new Run(o, out).run();
        } catch (IOException e) {
            throw new LoraidException("demo: " + e.getMessage(), e);
        }
    }

    /** Which characters a prompt names, by index. */
    static List<Integer> requested(String prompt) {
        List<Integer> r = new ArrayList<>();
        List<String> words = List.of(prompt.split(" "));
        for (int c = 0; c < DemoScenes.CHARACTERS.size(); c++) {
            if (words.contains(DemoScenes.CHARACTERS.get(c).phrase())) {
                r.add(c);
            }
        }
        return r;
    }

    private static final class Run {
        private final Options o;
        private final Reporter out;
        private final long t0 = System.nanoTime();
        private int stage;

        Run(Options o, Reporter out) {
            this.o = o;
            this.out = out;
        }

        private void stage(String what) {
            stage++;
            out.info(String.format(Locale.ROOT, "[%d/7 %5.1f s] %s", stage, (System.nanoTime() - t0) / 1e9, what));
        }

        Result run() throws IOException {
            Path work = Files.createDirectories(o.out().resolve("work"));
            stage("text: demo tokenizer and UMT5 encoder (dim " + DemoText.DIM + ", seed " + DemoText.SEED + ")");
            checkBase();
            Path tokenizer = DemoText.writeTokenizer(work);
            Path t5 = DemoText.writeEncoder(work);
            try (Umt5TextEncoder text = Umt5TextEncoder.open(t5, tokenizer, DemoModel.CONFIG.textLen(), Device.CPU)) {
                return withText(work, text);
            }
        }

        private Result withText(Path work, Umt5TextEncoder text) throws IOException {
            int n = DemoScenes.CHARACTERS.size();
            stage("data: " + n + " characters × " + o.pictures() + " captioned pictures (+ " + HELD_OUT_PICTURES
                    + " held out) and " + o.pictures() + " regularisation pictures, musubi caches + dataset TOMLs");
            List<Path> tomls = new ArrayList<>();
            List<Path> heldOut = new ArrayList<>();
            List<List<Picture>> references = new ArrayList<>();
            // regularisation pictures (prior preservation): base scenes with their captions, listed in every character's
            // dataset, so that a LoRA learns its word rather than "draw this whatever the prompt says"
            SplittableRandom rr = new SplittableRandom(REGULARISATION_SEED);
            List<DemoScenes.Scene> base = new ArrayList<>();
            for (int i = 0; i < o.pictures(); i++) {
                base.add(DemoScenes.base(rr));
            }
            Path regularisation = work.resolve("data").resolve("regularisation");
            DemoDataset.write(regularisation, base, text, o.batch(), o.pictures());
            for (int c = 0; c < n; c++) {
                SplittableRandom r = new SplittableRandom(DATA_SEED + c);
                List<DemoScenes.Scene> scenes = new ArrayList<>();
                List<Picture> ref = new ArrayList<>();
                for (int i = 0; i < o.pictures(); i++) {
                    DemoScenes.Scene s = DemoScenes.character(c, r);
                    scenes.add(s);
                    ref.add(PatchLatents.decode(PatchLatents.encode(s.render()), 0));
                }
                references.add(ref);
                String name = DemoScenes.CHARACTERS.get(c).phrase();
                tomls.add(DemoDataset.write(work.resolve("data").resolve(name), scenes, text, o.batch(), o.pictures(),
                        List.of(regularisation)));
                SplittableRandom h = new SplittableRandom(HELD_OUT_SEED + c);
                List<DemoScenes.Scene> held = new ArrayList<>();
                for (int i = 0; i < HELD_OUT_PICTURES; i++) {
                    held.add(DemoScenes.character(c, h));
                }
                heldOut.add(DemoDataset.write(work.resolve("held-out").resolve(name), held, text, 1, HELD_OUT_PICTURES));
                out.info("    " + name + ": e.g. \"" + scenes.getFirst().caption() + "\" → " + work.resolve("data").resolve(name));
            }
            CharacterDetector detector = new CharacterDetector(references);

            stage("LORAID training: " + n + " runs, LORAID " + 1 + ".." + n + " on " + DemoModel.BLOCKS_PER_LORAID
                    + " blocks each, " + o.epochs() + " epochs, then post-hoc EMA");
            List<Path> loraids = train(tomls, o.out().resolve("loras").resolve("loraid"), true);
            stage("ordinary training: the same " + n + " runs as ordinary LoRAs on all " + DemoModel.CONFIG.numLayers()
                    + " blocks, then post-hoc EMA");
            List<Path> loras = train(tomls, o.out().resolve("loras").resolve("ordinary"), false);

            stage("combination: LORAIDs attached together (disjoint blocks); ordinary LoRAs merged into the base");
            Path merged = o.out().resolve("loras").resolve("ordinary-3-merged-dit.safetensors");
            LoraMerger.merge(new MergeRequest(o.base(), loras, Optional.empty(), List.of(1.0), null, false, List.of(), List.of(),
                    DType.F32, merged), Reporter.SILENT);
            out.info("    " + merged.getFileName() + ": base + zorp + blix + quen, multiplier 1.0 each");

            int pictures = METHODS.size() * PROMPTS.size() * o.seeds().size() + METHODS.size() * o.animationSeeds();
            stage("pictures: " + pictures + " samples (" + o.sampleSteps() + " unipc steps, CFG " + DemoModel.TASK.guidanceLow()
                    + ", same seeds for every method)");
            DemoSampler sampler = new DemoSampler(text, o.sampleSteps(), o.device());
            List<Row> rows = new ArrayList<>();
            Picture[][] grid = new Picture[METHODS.size()][PROMPTS.size()];
            long s0 = System.nanoTime();
            int done = 0;
            for (int m = 0; m < METHODS.size(); m++) {
                for (int p = 0; p < PROMPTS.size(); p++) {
                    double[] presence = new double[n];
                    double recognised = 0;
                    double leak = 0;
                    List<Integer> req = requested(PROMPTS.get(p));
                    for (long seed : o.seeds()) {
                        Picture pic = sample(sampler, m, merged, loraids, PROMPTS.get(p), seed);
                        if (seed == o.seeds().getFirst()) {
                            grid[m][p] = pic;
                        }
                        double[] pr = detector.presence(pic);
                        for (int c = 0; c < n; c++) {
                            presence[c] += pr[c] / o.seeds().size();
                        }
                        recognised += CharacterDetector.recognised(pr, req) / o.seeds().size();
                        leak += CharacterDetector.leak(pr, req) / o.seeds().size();
                        done++;
                    }
                    rows.add(new Row(METHODS.get(m), PROMPTS.get(p), req, presence, recognised, leak));
                }
                double per = (System.nanoTime() - s0) / 1e9 / done;
                out.info(String.format(Locale.ROOT, "    %s: done, ETA %.0f s", METHODS.get(m), per * (pictures - done)));
            }
            Path gridFile = o.out().resolve("grid.png");
            DemoPictures.writePng(DemoPictures.grid(METHODS, PROMPTS, grid), gridFile);
            Path animation = o.out().resolve("animation.gif");
            String last = PROMPTS.getLast();
            List<BufferedImage> frames = new ArrayList<>();
            for (int s = 0; s < o.animationSeeds(); s++) {
                Picture[][] row = new Picture[1][METHODS.size()];
                for (int m = 0; m < METHODS.size(); m++) {
                    row[0][m] = sample(sampler, m, merged, loraids, last, 100 + s);
                }
                frames.add(DemoPictures.grid(List.of("\"" + last + "\" seed " + (100 + s)), METHODS, row));
            }
            DemoPictures.writeGif(frames, 80, animation);
            out.info("    " + gridFile + " (rows: method, columns: prompt, seed " + o.seeds().getFirst() + "), " + animation
                    + " (\"" + last + "\", one frame per seed)");

            stage("tables: character detector over " + o.seeds().size() + " seed(s) per cell; validation loss on "
                    + HELD_OUT_PICTURES + " held-out pictures per character");
            List<DemoInterference.Row> interference = new ArrayList<>();
            double[] baseLoss = DemoInterference.baseLosses(o.base(), heldOut, o.device());
            interference.addAll(DemoInterference.measure(METHODS.get(1), o.base(), baseLoss, heldOut, loras, false, merged,
                    o.device()));
            interference.addAll(DemoInterference.measure(METHODS.get(2), o.base(), baseLoss, heldOut, loraids, true, null,
                    o.device()));
            Path table = o.out().resolve("table.json");
            DemoTable.writeJson(table, o, rows, detector, interference);
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.info(String.format(Locale.ROOT, "demo done in %.0f s", seconds));
            return new Result(rows, DemoInterference.format(interference), gridFile, animation, table, loraids, loras, seconds);
        }

        private Picture sample(DemoSampler sampler, int method, Path merged, List<Path> loraids, String prompt, long seed)
                throws IOException {
            return switch (method) {
                case 0 -> sampler.sample(o.base(), List.of(), Optional.empty(), prompt, seed);
                case 1 -> sampler.sample(merged, List.of(), Optional.empty(), prompt, seed);
                default -> sampler.sample(o.base(), loraids, Optional.of(List.of(1, 2, 3)), prompt, seed);
            };
        }

        /** One run per character, epoch files kept, then post-hoc EMA over them; returns the EMA files. */
        private List<Path> train(List<Path> tomls, Path dir, boolean loraid) {
            List<Path> results = new ArrayList<>();
            for (int c = 0; c < tomls.size(); c++) {
                String name = DemoScenes.CHARACTERS.get(c).phrase();
                NetworkConfig net = new NetworkConfig(NetworkModule.LORA, RANK, RANK, 0, List.of(), null, false, null, loraid ? c + 1 : null,
                        DemoModel.BLOCKS_PER_LORAID);
                String label = (loraid ? "LORAID " + (c + 1) + " " : "LoRA ") + name;
                Trainer.Result r = DemoTraining.run(DemoTraining.config(o.base(), tomls.get(c), dir, name, net, LEARNING_RATE,
                        DemoTraining.logitNormal(), o.epochs(), 1, TRAIN_SEED + c, o.device()), label, out);
                List<Path> epochs = new ArrayList<>();
                for (int e = 1; e < o.epochs(); e++) {
                    epochs.add(dir.resolve(name + SaveConfig.epochSuffix(e) + ".safetensors"));
                }
                epochs.add(r.lora());
                Path ema = dir.resolve(name + "-ema.safetensors");
                EmaTool.run(new EmaRequest(new TreeMap<>(), epochs, ema, new TreeMap<>(), EmaSchedule.select(0.2, null, null, false),
                        EpochDiscovery.SortBy.EPOCH, true, 0, LoraBlend.Mode.INTELLIGENT, 0.1, false, "partitioned", false),
                        Reporter.SILENT);
                out.info("    " + label + ": post-hoc EMA (σ_rel 0.2) over " + epochs.size() + " epoch files → " + ema);
                results.add(ema);
            }
            return results;
        }

        /** The base must have been trained against this demo text encoder. */
        private void checkBase() throws IOException {
            try (SafetensorsFile f = SafetensorsFile.open(o.base())) {
                String fp = f.metadata().get("loraid_demo_text");
                if (!DemoText.FINGERPRINT.equals(fp)) {
                    out.warn(o.base() + " was trained with demo text encoder '" + fp + "', this is '" + DemoText.FINGERPRINT
                            + "': rebuild it with loraid demo --rebuild-base");
                }
            }
        }
    }
}
