package dev.loraid.core.demo;

import dev.loraid.core.Reporter;
import dev.loraid.core.train.MixedPrecision;
import dev.loraid.core.train.NetworkConfig;
import dev.loraid.core.train.OptimizerConfig;
import dev.loraid.core.train.SaveConfig;
import dev.loraid.core.train.TimestepConfig;
import dev.loraid.core.train.TimestepSampling;
import dev.loraid.core.train.TrainConfig;
import dev.loraid.core.train.TrainListener;
import dev.loraid.core.train.Trainer;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.wan.quant.Fp8Load;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The demo's training runs: plain {@link TrainConfig}s for {@link Trainer#run}, progress as lines with an ETA. */
final class DemoTraining {
    private DemoTraining() {
    }

    /**
     * A run on {@code dit} with the dataset {@code toml}: AdamW at {@code lr} (cosine with 5% warmup), timesteps
     * {@code timesteps}, {@code epochs} epochs, a LoRA file every {@code saveEvery} epochs (null: only the final one).
     */
    static TrainConfig config(Path dit, Path toml, Path outDir, String name, NetworkConfig network, double lr,
            TimestepConfig timesteps, int epochs, Integer saveEvery, long seed, Device device) {
        OptimizerConfig optimizer = new OptimizerConfig("AdamW", List.of(), lr, "cosine", "0.05", "0", 1, 1.0, null, null, null,
                1.0);
        SaveConfig save = new SaveConfig(outDir, name, null, saveEvery, null, null, null, null, false, false, DType.F32, false,
                "loraid demo");
        return new TrainConfig(dit, null, null, false, null, toml, toml.getParent(), device, MixedPrecision.NO, false, network,
                optimizer, timesteps, 1, epochs, 1, seed, save, null, null, null, null, Fp8Load.NONE);
    }

    static TimestepConfig logitNormal() {
        return TimestepConfig.of(TimestepSampling.SIGMOID);
    }

    static TimestepConfig shift(double shift) {
        return TimestepConfig.of(TimestepSampling.SHIFT).withShift(shift, 1.0);
    }

    /** Runs {@code config}, reporting "label: step n/N, loss …, ETA …" about every quarter (and the end). */
    static Trainer.Result run(TrainConfig config, String label, Reporter out) {
        long t0 = System.nanoTime();
        TrainListener listener = new TrainListener() {
            long total;
            long nextReport;

            @Override
            public void info(String message) {
            }

            @Override
            public void warn(String message) {
                out.warn(label + ": " + message);
            }

            @Override
            public void started(Plan plan) {
                total = plan.totalSteps();
                nextReport = Math.max(1, total / 4);
            }

            @Override
            public void stepped(Step s) {
                out.progress(label, s.step(), s.totalSteps());
                if (s.step() >= nextReport && s.step() < s.totalSteps()) {
                    double elapsed = (System.nanoTime() - t0) / 1e9;
                    double eta = elapsed / s.step() * (s.totalSteps() - s.step());
                    out.info(String.format(Locale.ROOT, "    %s: step %d/%d, loss %.3f, ETA %.0f s", label, s.step(), s.totalSteps(),
                            s.avrLoss(), eta));
                    nextReport += Math.max(1, total / 4);
                }
            }
        };
        Trainer.Result r = Trainer.run(config, listener);
        out.info(String.format(Locale.ROOT, "    %s: %d steps in %.1f s, final loss %.3f", label, r.steps(),
                (System.nanoTime() - t0) / 1e9, r.lastLoss()));
        return r;
    }
}
