package dev.loraid.core.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A run's scalars in TensorBoard under upstream's tags (training.md §5.5, musubi's {@code generate_step_logs}): per
 * optimizer step {@code loss/current}, {@code loss/average} and {@code lr/<group>} (groups {@code unet}, and
 * {@code unet plus} with LoRA+), for Prodigy also {@code lr/d*lr/<group>} (then {@code lr/<group>} is the scheduled rate
 * without d, as upstream); per epoch {@code loss/epoch} at step epoch number. Ours: {@code loss/validation} at each
 * validation (upstream logs none).
 */
final class TensorBoardLog implements AutoCloseable {
    private final TensorBoardEvents events;
    private final List<String> groups;
    private final boolean dTimesLr;

    /**
     * @param groups        the optimizer's group names, in order
     * @param optimizerType {@code --optimizer_type}, which decides the d·lr tag as upstream does (Prodigy, DAdapt*)
     */
    TensorBoardLog(Path dir, List<String> groups, String optimizerType) {
        this.events = TensorBoardEvents.create(dir);
        this.groups = List.copyOf(groups);
        String type = optimizerType.toLowerCase(Locale.ROOT);
        this.dTimesLr = type.contains("prodigy") || type.startsWith("dadapt");
    }

    Path file() {
        return events.file();
    }

    void step(long step, double loss, double average, double[][] groupLrs) {
        events.scalar("loss/current", loss, step);
        events.scalar("loss/average", average, step);
        for (int g = 0; g < groups.size(); g++) {
            String name = groups.get(g);
            events.scalar("lr/" + name, dTimesLr ? groupLrs[g][0] : groupLrs[g][1], step);
            if (dTimesLr) {
                events.scalar("lr/d*lr/" + name, groupLrs[g][1], step);
            }
        }
    }

    void epoch(int epochNumber, double average) {
        events.scalar("loss/epoch", average, epochNumber);
    }

    void validation(long step, double loss) {
        events.scalar("loss/validation", loss, step);
    }

    @Override
    public void close() {
        events.close();
    }
}
