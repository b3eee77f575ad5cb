package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.autograd.optim.TorchSchedulers;
import dev.loraid.autograd.optim.LrSchedules;
import dev.loraid.autograd.optim.LrScheduleArgs;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.core.LoraidException;
import dev.loraid.core.ParameterText;
import dev.loraid.core.Reporter;
import dev.loraid.core.data.Batch;
import dev.loraid.core.data.BatchLoader;
import dev.loraid.core.data.DatasetGroup;
import dev.loraid.core.data.TrainSample;
import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.lora.NetworkModule;
import dev.loraid.core.plan.LoraidAllocator;
import dev.loraid.core.plan.LoraidSlice;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.tensor.safetensors.TempFiles;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.swap.ActivationOffload;
import dev.loraid.wan.swap.BlockSwap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code loraid train}: LoRA (or one LORAID slice) training by flow matching on cached latents and text embeddings
 * (training.md §0–§5). One call of {@link #run} trains from the first step, or from a {@link RunState} when
 * {@link TrainConfig#resume()} is set, and returns when {@code max_train_steps} updates are done:
 * <ol>
 *   <li>data: the dataset config's caches, one epoch order per (seed, epoch) ({@link DatasetGroup});</li>
 *   <li>model: the frozen DiT, or the two A14B experts ({@link TrainModels}), with the LoRA adapters attached;</li>
 *   <li>per micro-batch: timesteps ({@link TimestepSampler}), then {@link TrainStep#accumulate}; per accumulation
 *       window: {@link TrainStep#update};</li>
 *   <li>per step: the JSONL log, validation, step files and states; per epoch: epoch files and states;</li>
 *   <li>at the end: {@code <output_name>.safetensors} (and {@code <output_name>-state}).</li>
 * </ol>
 */
public final class Trainer {
    private final TrainConfig c;
    private final TrainListener listener;

    private Trainer(TrainConfig c, TrainListener listener) {
        this.c = c;
        this.listener = listener;
    }

    /** The outcome: the final LoRA file, the steps done and the last step's loss. */
    public record Result(Path lora, long steps, double lastLoss) {
    }

    public static Result run(TrainConfig config, TrainListener listener) {
        return new Trainer(config, listener).run();
    }

    private Result run() {
        checkOutputDir();
        DatasetGroup data = DatasetGroup.open(c.datasetConfig(), c.workingDir(), listener);
        DatasetGroup validationData = c.validation() == null ? null
                : DatasetGroup.open(c.validation().datasetConfig(), c.workingDir(), listener);
        int ga = c.gradientAccumulationSteps();
        int batchesPerEpoch = data.batchesPerEpoch();
        int updatesPerEpoch = (batchesPerEpoch + ga - 1) / ga;
        long maxSteps = c.maxTrainEpochs() != null ? (long) c.maxTrainEpochs() * updatesPerEpoch : c.maxTrainSteps();
        int epochs = (int) ((maxSteps + updatesPerEpoch - 1) / updatesPerEpoch);
        try (TrainModels models = TrainModels.open(c, listener)) {
            WanModel primary = models.primary();
            int blocks = primary.blocks().size();
            Optional<LoraidSlice> slice = c.network().loraid() == null ? Optional.empty()
                    : Optional.of(LoraidAllocator.slice(c.network().loraid(), c.network().blocksPerLoraid(), blocks));
            slice.ifPresent(s -> listener.info("LORAID " + s.id() + ": blocks " + s.range() + " of " + blocks));
            NetworkArgs args = NetworkArgs.parse(c.network().args(), listener);
            NetworkModule module = c.network().module();
            warnIgnoredForModule(module, args);
            StartWeights start = c.network().weights() == null ? null : StartWeights.read(c.network().weights(), module, listener);
            int rank = c.network().dimFromWeights() ? start.uniformRank() : c.network().dim();
            double alpha = c.network().dimFromWeights() ? start.firstAlpha() : c.network().alpha();
            LoraNetwork net = LoraNetwork.create(primary, new ModuleSelector(slice, args.includePatterns(), args.excludePatterns()),
                    module, rank, alpha, new LoraAdapter.Dropouts(module == NetworkModule.LORA ? c.network().dropout() : 0,
                            args.rankDropout(), args.moduleDropout()),
                    args.factor() == null ? -1 : args.factor(), RandomStreams.loraInit(c.seed()),
                    args.verbose() ? listener : Reporter.SILENT);
            if (net.adapters().isEmpty()) {
                throw new LoraidException("No " + module.label() + " modules found: the include/exclude patterns and the LORAID "
                        + "slice select no layer");
            }
            if (c.blocksToSwap() > 0) {
                net.moveTo(c.device()); // made beside the weights, in host memory
                BlockSwap swap = models.swapBlocks(c.blocksToSwap());
                listener.info("block swap: " + swap.describe(c.device()));
            }
            boolean offload = c.gradientCheckpointing() && c.checkpointOffload() && !c.device().isCpu();
            if (offload) {
                listener.info("gradient checkpointing: each block's input waits in host memory until the backward pass");
            }
            for (WanModel m : models.all()) {
                if (m != primary) {
                    net.attachSameTo(m);
                }
                m.setGradientCheckpointing(c.gradientCheckpointing());
                if (offload) {
                    m.setCheckpointOffload(ActivationOffload.to(c.device()));
                }
                m.setActivationDType(c.mixedPrecision().activationDType());
            }
            net.setTraining(true);
            if (start != null) {
                start.loadInto(net, listener);
            }
            Map<String, Parameter> params = net.trainableParameters();
            Optimizer optimizer = Optimizers.of(params, c.optimizer(), module == NetworkModule.LORA ? args.loraPlusLrRatio() : null);
            Optimizers.describe(optimizer, c.optimizer(), params.values(), listener);
            long warmup = LrSchedules.parseSteps(c.optimizer().warmupSteps(), maxSteps);
            OptimizerConfig o = c.optimizer();
            LrScheduler scheduler = new LrScheduler(optimizer, o.schedulerType() != null
                    ? TorchSchedulers.of(o.schedulerType(), o.schedulerArgs()) // replaces --lr_scheduler and its warmup (§3.2)
                    : LrSchedules.byName(o.schedulerName(), new LrScheduleArgs(warmup, maxSteps,
                    o.numCycles(), o.power(), o.minLrRatio(), LrSchedules.parseSteps(o.decaySteps(), maxSteps),
                    o.timescale() == null ? null : o.timescale().longValue(), o.stepRules(), o.learningRate())));
            MaxNormRegularizer maxNorm = c.network().scaleWeightNorms() == null || module != NetworkModule.LORA ? null
                    : new MaxNormRegularizer(List.copyOf(net.loraAdapters().values()), c.network().scaleWeightNorms());
            TrainStep step = new TrainStep(params.values(), optimizer, scheduler, c.optimizer().maxGradNorm(), GradientSync.LOCAL,
                    maxNorm);
            RunState position;
            if (c.resume() != null) {
                position = RunState.read(c.resume());
                if (position.seed() != c.seed()) {
                    listener.warn(named(param("TrainConfig.resume"), " " + c.resume() + " was saved by a run with ",
                            param("TrainConfig.seed"), " " + position.seed() + ", this run has "
                            + c.seed() + ": the continuation will not repeat the original run"));
                }
                if (position.batchesPerEpoch() != batchesPerEpoch) {
                    listener.warn(named(param("TrainConfig.resume"), " " + c.resume() + " was saved with "
                            + position.batchesPerEpoch() + " batches per epoch, the "
                            + "dataset now gives " + batchesPerEpoch
                            + ": the data order changes, the continuation will not repeat the run"));
                }
                RunState.restore(c.resume(), params, optimizer, scheduler);
                listener.info("resumed from " + c.resume() + " at step " + position.globalStep() + " (epoch " + (position.epoch() + 1)
                        + ", batch " + position.nextBatch() + ")");
            } else {
                position = new RunState(0, 0, 0, 0, 0, c.seed(), batchesPerEpoch, List.of());
            }
            TrainingSampler sampler = c.sampling() == null ? null : TrainingSampler.prepare(c, sampleTask(primary), listener);
            long loraParams = params.values().stream().mapToLong(p -> p.shape().numel()).sum();
            listener.started(new TrainListener.Plan(maxSteps, epochs, batchesPerEpoch, data.numTrainItems(), module, net.adapters().size(),
                    loraParams, position.globalStep()));
            TrainMetadata metadata = new TrainMetadata(c, rank, alpha > 0 ? alpha : rank, args, slice, data.numTrainItems(),
                    batchesPerEpoch, epochs, maxSteps, warmup, data.datasetsMetadataJson(), new SecureRandom().nextLong() >>> 1,
                    System.currentTimeMillis() / 1000.0);
            Path logFile = c.save().outputDir().resolve(c.save().outputName() + "-log.jsonl");
            // the sampler's VAE (if any) is freed with the run; a null resource is skipped
            // a resumed run writes a new event file in a new run folder, as upstream's trackers do
            try (TrainingSampler samplesToClose = sampler;
                    TrainLog log = c.resume() != null ? TrainLog.resume(logFile, position.globalStep()) : TrainLog.create(logFile);
                    TensorBoardLog board = c.logging() == null ? null : new TensorBoardLog(
                            c.logging().runDirectory(java.time.LocalDateTime.now()),
                            optimizer.groups().stream().map(dev.loraid.autograd.optim.ParamGroup::name).toList(),
                            c.optimizer().type())) {
                if (board != null) {
                    listener.info("TensorBoard events: " + board.file());
                }
                Loop loop = new Loop(models, net, params, optimizer, scheduler, step, data, validationData, sampler, metadata, log,
                        board, maxSteps, epochs, updatesPerEpoch);
                return loop.run(position);
            }
        }
    }

    /**
     * The output folder is created and checked writable before any input is read, so a wrong folder fails in a second,
     * not at the first save; what a killed earlier run left there (temp files, temp state folders) is removed.
     */
    private void checkOutputDir() {
        Path dir = c.save().outputDir();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new LoraidException(named("cannot create ", param("SaveConfig.outputDir"), " " + dir + ": "
                    + TempFiles.reason(e)), e);
        }
        if (!Files.isWritable(dir)) {
            throw new LoraidException(named(param("SaveConfig.outputDir"), " " + dir + " is not writable"));
        }
        TempFiles.removeStale(dir);
    }

    /** The per-step state of one run. */
    private final class Loop {
        private final TrainModels models;
        private final LoraNetwork net;
        private final Map<String, Parameter> params;
        private final Optimizer optimizer;
        private final LrScheduler scheduler;
        private final TrainStep step;
        private final DatasetGroup data;
        private final ValidationLoss validation;
        private final TrainingSampler samples;
        private final TrainMetadata metadata;
        private final TrainLog log;
        private final TensorBoardLog board;
        private final long maxSteps;
        private final int epochs;
        private final int windowSize;
        private final TimestepSampler sampler;
        private final Deque<Double> window = new ArrayDeque<>();

        Loop(TrainModels models, LoraNetwork net, Map<String, Parameter> params, Optimizer optimizer, LrScheduler scheduler,
                TrainStep step, DatasetGroup data, DatasetGroup validationData, TrainingSampler samples, TrainMetadata metadata,
                TrainLog log, TensorBoardLog board, long maxSteps, int epochs, int windowSize) {
            this.models = models;
            this.net = net;
            this.params = params;
            this.optimizer = optimizer;
            this.scheduler = scheduler;
            this.step = step;
            this.data = data;
            this.validation = validationData == null ? null : new ValidationLoss(validationData, models);
            this.samples = samples;
            this.metadata = metadata;
            this.log = log;
            this.board = board;
            this.maxSteps = maxSteps;
            this.epochs = epochs;
            this.windowSize = windowSize;
            this.sampler = new TimestepSampler(c.timesteps(), listener);
        }

        Result run(RunState from) {
            long seed = c.seed();
            int ga = c.gradientAccumulationSteps();
            long globalStep = from.globalStep();
            long micro = from.microStep();
            long drawn = from.samplesDrawn();
            window.addAll(from.lossWindow());
            double lastLoss = Double.NaN;
            int epoch = from.epoch();
            int next = from.nextBatch();
            if (c.sampling() != null && c.sampling().atFirst() && globalStep == 0) {
                sample(String.format("%06d", 0));
            }
            optimizer.train(); // a schedule-free optimizer's parameters hold x until now (a resumed state is saved so)
            for (; epoch < epochs && globalStep < maxSteps; epoch++, next = 0) {
                List<Batch> order = data.batches(RandomStreams.dataOrder(seed), epoch);
                double accLoss = 0;
                int accCount = 0;
                for (int i = next; i < order.size() && globalStep < maxSteps; i++) {
                    List<TrainSample> samples = BatchLoader.load(order.get(i));
                    long[] shape = samples.getFirst().latents().shape().toArray();
                    HostRandom random = RandomStreams.timesteps(seed);
                    Noising[] noisings;
                    WanModel model;
                    if (models.dual()) {
                        TimestepSampler.ExpertBatch eb = sampler.drawForExperts(samples.size(), shape[2], shape[3], random, drawn,
                                models.boundary());
                        noisings = eb.noisings();
                        model = models.model(eb.high());
                    } else {
                        noisings = sampler.draw(samples.size(), shape[2], shape[3], random, drawn);
                        model = models.primary();
                    }
                    accLoss += step.accumulate(model, samples, noisings, seed, micro, 1.0 / ga);
                    accCount++;
                    micro++;
                    drawn += samples.size();
                    next = i + 1;
                    if ((i + 1) % ga != 0 && i != order.size() - 1) {
                        continue;
                    }
                    TrainStep.Update u = step.update();
                    globalStep++;
                    lastLoss = accLoss / accCount;
                    accLoss = 0;
                    accCount = 0;
                    window.addLast(lastLoss);
                    while (window.size() > windowSize) {
                        window.removeFirst();
                    }
                    double avr = window.stream().mapToDouble(Double::doubleValue).average().orElse(lastLoss);
                    log.step(globalStep, epoch + 1, lastLoss, avr, u.lr());
                    if (board != null) {
                        board.step(globalStep, lastLoss, avr, u.groupLrs());
                    }
                    listener.stepped(new TrainListener.Step(globalStep, maxSteps, epoch + 1, lastLoss, avr, u.lr(), u.gradNorm()));
                    if (u.maxNorm() != null && u.maxNorm().scaled() > 0) {
                        listener.info(named("step " + globalStep + ": ", param("NetworkConfig.scaleWeightNorms"),
                                String.format(java.util.Locale.ROOT, " scaled %d module(s), mean norm %.4g, max %.4g",
                                        u.maxNorm().scaled(), u.maxNorm().meanNorm(), u.maxNorm().maxNorm())));
                    }
                    if (validation != null && globalStep % c.validation().everyNSteps() == 0) {
                        optimizer.eval();
                        validate(globalStep);
                        optimizer.train();
                    }
                    Integer every = c.save().everyNSteps();
                    Integer sampleEvery = c.sampling() == null ? null : c.sampling().everyNSteps();
                    boolean saveNow = every != null && globalStep % every == 0;
                    boolean sampleNow = sampleEvery != null && globalStep % sampleEvery == 0;
                    if (saveNow || sampleNow) {
                        // once around both, as upstream: a schedule-free optimizer saves and samples its x (§3.1)
                        optimizer.eval();
                        if (saveNow) {
                            saveStep(globalStep, epoch + 1, at(globalStep, epoch, i + 1, micro, drawn));
                        }
                        if (sampleNow) {
                            sample(String.format("%06d", globalStep));
                        }
                        optimizer.train();
                    }
                }
                boolean finished = globalStep >= maxSteps;
                if (board != null && !window.isEmpty()) {
                    board.epoch(epoch + 1, window.stream().mapToDouble(Double::doubleValue).average().orElseThrow());
                }
                Integer everyEpochs = c.save().everyNEpochs();
                boolean saveEpochNow = !finished && everyEpochs != null && (epoch + 1) % everyEpochs == 0 && epoch + 1 < epochs;
                Integer sampleEpochs = c.sampling() == null ? null : c.sampling().everyNEpochs();
                boolean epochDone = next >= order.size();
                boolean sampleEpochNow = epochDone && sampleEpochs != null && (epoch + 1) % sampleEpochs == 0;
                if (saveEpochNow || sampleEpochNow) {
                    optimizer.eval();
                    if (saveEpochNow) {
                        saveEpoch(globalStep, epoch + 1, at(globalStep, epoch + 1, 0, micro, drawn));
                    }
                    if (sampleEpochNow) {
                        sample(String.format("e%06d", epoch + 1));
                    }
                    optimizer.train();
                }
                if (finished) {
                    break;
                }
            }
            if (epoch < epochs && next >= data.batchesPerEpoch()) {
                epoch++; // stopped on an epoch's last batch: a continuation starts with the next epoch
                next = 0;
            }
            Path finalFile = c.save().loraFile("");
            optimizer.eval();
            saveLora(finalFile, globalStep, epochs);
            if (c.save().saveState() || c.save().saveStateOnTrainEnd()) {
                // the position after the last update, so a longer run can continue from here
                saveState(c.save().stateDir(""), at(globalStep, epoch, next, micro, drawn));
            }
            return new Result(finalFile, globalStep, lastLoss);
        }

        /** Where the run stands after an update: what a {@link RunState} saved now holds. */
        private RunState at(long globalStep, int epoch, int nextBatch, long micro, long drawn) {
            return new RunState(globalStep, epoch, nextBatch, micro, drawn, c.seed(), data.batchesPerEpoch(), List.copyOf(window));
        }

        /** Sampling after saving at the same step or epoch (§5.1), with the low-noise model (§6.2). */
        private void sample(String tag) {
            for (Path p : samples.sample(models.model(false), net, tag, listener)) {
                listener.saved(p);
            }
        }

        private void validate(long globalStep) {
            net.setTraining(false);
            try {
                double v = validation.loss();
                log.validation(globalStep, v);
                if (board != null) {
                    board.validation(globalStep, v);
                }
                listener.validated(globalStep, v);
            } finally {
                net.setTraining(true);
            }
        }

        private void saveStep(long globalStep, int epochNumber, RunState state) {
            saveLora(c.save().loraFile(SaveConfig.stepSuffix(globalStep)), globalStep, epochNumber);
            if (c.save().saveState()) {
                saveState(c.save().stateDir(SaveConfig.stepSuffix(globalStep)), state);
            }
            int every = c.save().everyNSteps();
            removeOld(c.save().lastNSteps(), globalStep, every, false, true);
            removeOld(c.save().lastNStepsState() != null ? c.save().lastNStepsState() : c.save().lastNSteps(), globalStep, every,
                    true, true);
        }

        private void saveEpoch(long globalStep, int epochNumber, RunState state) {
            saveLora(c.save().loraFile(SaveConfig.epochSuffix(epochNumber)), globalStep, epochNumber);
            if (c.save().saveState()) {
                saveState(c.save().stateDir(SaveConfig.epochSuffix(epochNumber)), state);
            }
            int every = c.save().everyNEpochs();
            removeOld(c.save().lastNEpochs(), epochNumber, every, false, false);
            removeOld(c.save().lastNEpochsState() != null ? c.save().lastNEpochsState() : c.save().lastNEpochs(), epochNumber,
                    every, true, false);
        }

        /**
         * --save_last_n_steps/_epochs(_state) (§5.1): after saving number {@code at}, the file (or state) of number
         * {@code at − keep − 1} rounded down to a multiple of {@code every} for steps, {@code at − every·keep} for epochs.
         */
        private void removeOld(Integer keep, long at, int every, boolean state, boolean steps) {
            if (keep == null) {
                return;
            }
            long r;
            if (steps) {
                r = at - keep - 1;
                r -= Math.floorMod(r, every);
            } else {
                r = at - (long) every * keep;
            }
            if (r <= 0) {
                return;
            }
            String suffix = steps ? SaveConfig.stepSuffix(r) : SaveConfig.epochSuffix((int) r);
            try {
                if (state) {
                    RunState.delete(c.save().stateDir(suffix));
                } else {
                    Files.deleteIfExists(c.save().loraFile(suffix));
                }
            } catch (IOException e) {
                listener.warn("cannot remove old " + c.save().loraFile(suffix) + ": " + e.getMessage());
            }
        }

        private void saveLora(Path file, long globalStep, int epochNumber) {
            Map<String, String> meta = metadata.at(globalStep, epochNumber, System.currentTimeMillis() / 1000.0);
            LoraFiles.write(net.toLoraFile(file.toString(), meta, c.save().precision()), file);
            listener.saved(file);
        }

        private void saveState(Path dir, RunState state) {
            state.save(dir, params, optimizer, scheduler);
            listener.saved(dir);
        }
    }

    /** The Wan task whose sampling defaults apply: --task, else the released variant with the model's config. */
    private WanVariant sampleTask(WanModel model) {
        if (c.task() != null) {
            return WanPresets.get(c.task());
        }
        List<WanVariant> matching = WanPresets.matching(model.config());
        if (matching.isEmpty()) {
            throw new LoraidException(named("sampling needs ", param("TrainConfig.task"), ": the model's config ("
                    + model.config().describe() + ") is no known "
                    + "Wan variant"));
        }
        return matching.getFirst();
    }

    /**
     * What upstream's LoHa and LoKr modules take but do not use (musubi networks/loha.py, lokr.py), and LoKr's factor
     * elsewhere: each named once, as ignored.
     */
    private void warnIgnoredForModule(NetworkModule module, NetworkArgs args) {
        if (module != NetworkModule.LOKR && args.factor() != null) {
            warnIgnored(module, param("NetworkConfig.args"), " factor (LoKr's)");
        }
        if (module == NetworkModule.LORA) {
            return;
        }
        if (c.network().dropout() > 0) {
            warnIgnored(module, param("NetworkConfig.dropout"), " (LoHa and LoKr take rank_dropout and module_dropout)");
        }
        if (args.loraPlusLrRatio() != null) {
            warnIgnored(module, param("NetworkConfig.args"), " loraplus_lr_ratio (no lora_up weights)");
        }
        if (c.network().scaleWeightNorms() != null) {
            warnIgnored(module, param("NetworkConfig.scaleWeightNorms"), " (upstream's max-norm finds no lora_down/lora_up)");
        }
    }

    private void warnIgnored(NetworkModule module, ParameterText.Name what, String detail) {
        listener.warn(named(what, detail + " does nothing with ", param("NetworkConfig.module"), " " + module.moduleName()
                + ", as upstream; ignored"));
    }
}
