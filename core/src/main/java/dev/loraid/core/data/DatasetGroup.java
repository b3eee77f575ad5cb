package dev.loraid.core.data;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * All datasets of one config, as training sees them (spec training.md §4.7 "dataset group"): their cached items,
 * and the batches of each epoch.
 *
 * <p>Epoch order ({@link #batches}) is a pure function of (seed, epoch): each dataset's buckets are shuffled and
 * cut into batches ({@link CachedDataset#batches}), the datasets' batch lists are concatenated in file order and
 * that list is shuffled by {@link EpochShuffle#key} (seed, epoch). Data-parallel sharding takes
 * {@code batches.get(i)} for {@code i % world == rank}; a resumed run recomputes the same list and skips the
 * batches already done.
 */
public final class DatasetGroup {
    private final DatasetConfig config;
    private final List<CachedDataset> datasets;

    private DatasetGroup(DatasetConfig config, List<CachedDataset> datasets) {
        this.config = config;
        this.datasets = List.copyOf(datasets);
    }

    /**
     * Reads {@code configFile} (relative paths against {@code workingDir}, see {@link DatasetConfigReader}) and
     * discovers each dataset's caches. Throws one {@link LoraidException} naming every cache directory and why
     * when no dataset has a usable item; a dataset that is empty while others are not is a warning.
     */
    public static DatasetGroup open(Path configFile, Path workingDir, Reporter reporter) {
        return of(DatasetConfigReader.read(configFile, workingDir, reporter), reporter);
    }

    /** Discovers the caches of an already parsed config (see {@link #open}). */
    public static DatasetGroup of(DatasetConfig config, Reporter reporter) {
        List<CachedDataset> found = new ArrayList<>();
        for (DatasetSpec spec : config.datasets()) {
            found.add(CachedDataset.discover(spec, reporter));
        }
        StringBuilder why = new StringBuilder();
        boolean any = false;
        for (CachedDataset d : found) {
            if (d.numTrainItems() > 0) {
                any = true;
            } else {
                why.append("\n  datasets[").append(d.spec().index()).append("] (").append(d.spec().kind().label())
                    .append("): cache directory ").append(d.spec().cacheDirectory()).append(' ').append(d.problem());
            }
        }
        if (!any) {
            throw new LoraidException(config.file() + ": no cached training items found; run the latent and text "
                + "encoder caching first. Searched:" + why);
        }
        if (!why.isEmpty()) {
            reporter.warn(config.file() + ": some datasets have no cached items and are left out:" + why);
        }
        return new DatasetGroup(config, found);
    }

    public DatasetConfig config() {
        return config;
    }

    /** One entry per dataset of the config, in file order (empty ones included). */
    public List<CachedDataset> datasets() {
        return datasets;
    }

    /** Bucket entries over all datasets, repeats included (upstream num_train_items). */
    public int numTrainItems() {
        int n = 0;
        for (CachedDataset d : datasets) {
            n += d.numTrainItems();
        }
        return n;
    }

    public int batchesPerEpoch() {
        int n = 0;
        for (CachedDataset d : datasets) {
            n += d.batchesPerEpoch();
        }
        return n;
    }

    /** Every batch of epoch {@code epoch}, in training order (see the class comment). */
    public List<Batch> batches(long seed, int epoch) {
        List<Batch> all = new ArrayList<>(batchesPerEpoch());
        for (CachedDataset d : datasets) {
            all.addAll(d.batches(seed, epoch));
        }
        return List.copyOf(EpochShuffle.shuffled(all, EpochShuffle.key(seed, epoch)));
    }

    /** The {@code ss_datasets} metadata value (§4.7 last bullet); see {@link DatasetsMetadata}. */
    public String datasetsMetadataJson() {
        return DatasetsMetadata.json(config.datasets());
    }
}
