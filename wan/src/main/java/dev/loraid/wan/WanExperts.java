package dev.loraid.wan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The two DiTs of a Wan 2.2 A14B release (spec wan.md §1.2), opened from the release folder's
 * {@code high_noise_model/} and {@code low_noise_model/} (each a file, shard set or index): both memory-mapped,
 * checked against the variant's config, and chosen per sampling step by {@link WanVariant#expertFor}.
 */
public final class WanExperts implements AutoCloseable {
    private final WanVariant variant;
    private final WanCheckpoint high;
    private final WanCheckpoint low;
    private final WanModel highModel;
    private final WanModel lowModel;

    private WanExperts(WanVariant variant, WanCheckpoint high, WanCheckpoint low) {
        this.variant = variant;
        this.high = high;
        this.low = low;
        this.highModel = high.model();
        this.lowModel = low.model();
    }

    /** Opens {@code releaseDir}/high_noise_model and /low_noise_model; both must match the variant's config. */
    public static WanExperts open(Path releaseDir, WanVariant variant) throws IOException {
        if (!variant.hasExperts()) {
            throw new IllegalArgumentException(variant.name() + " has a single DiT, not two experts");
        }
        Path highPath = releaseDir.resolve(WanVariant.HIGH_NOISE);
        Path lowPath = releaseDir.resolve(WanVariant.LOW_NOISE);
        for (Path p : new Path[] {highPath, lowPath}) {
            if (!Files.exists(p)) {
                throw new IOException(releaseDir + ": no " + p.getFileName() + " (a " + variant.name()
                        + " release holds " + WanVariant.HIGH_NOISE + "/ and " + WanVariant.LOW_NOISE + "/)");
            }
        }
        WanCheckpoint high = WanCheckpoint.open(highPath, variant.config());
        try {
            return new WanExperts(variant, high, WanCheckpoint.open(lowPath, variant.config()));
        } catch (IOException | RuntimeException e) {
            high.close();
            throw e;
        }
    }

    public WanVariant variant() {
        return variant;
    }

    /** The expert that handles model timestep {@code t} (0..1000): high-noise while t/1000 ≥ boundary. */
    public WanModel modelFor(double t) {
        return variant.expertFor(t).equals(WanVariant.HIGH_NOISE) ? highModel : lowModel;
    }

    @Override
    public void close() {
        try {
            high.close();
        } finally {
            low.close();
        }
    }
}
