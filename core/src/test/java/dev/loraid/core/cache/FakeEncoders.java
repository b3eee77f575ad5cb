package dev.loraid.core.cache;

import dev.loraid.core.generate.TextEncoder;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Stand-ins for the models, shaped like the synthetic encoders that wrote the musubi fixture (expected.json
 * "synthetic_models"): a VAE giving 4 latent channels [4, (F-1)/4 + 1, H/8, W/8], and a T5 giving [words + 1, 32].
 */
final class FakeEncoders {
    private FakeEncoders() {
    }

    static final class Vae implements LatentEncoder {
        final List<long[]> calls = new ArrayList<>();
        final List<Integer> batchSizes = new ArrayList<>();
        private final SplittableRandom random = new SplittableRandom(1);

        @Override
        public Tensor encode(Tensor video) {
            if (video.rank() != 4 || video.size(0) != 3) {
                throw new IllegalArgumentException("expected [3, F, H, W], got " + video.shape());
            }
            calls.add(video.shape().toArray());
            long f = (video.size(1) - 1) / 4 + 1;
            long h = video.size(2) / 8;
            long w = video.size(3) / 8;
            float[] v = new float[(int) (4 * f * h * w)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) random.nextDouble(-2, 2);
            }
            return Tensor.of(v, 4, f, h, w);
        }

        @Override
        public List<Tensor> encodeBatch(List<Tensor> videos) {
            batchSizes.add(videos.size());
            return LatentEncoder.super.encodeBatch(videos);
        }

        @Override
        public DType dtype() {
            return DType.BF16;
        }
    }

    /**
     * A VAE whose latent is a plain function of the pixels, for checking what was encoded: channel c of latent frame t
     * is the mean of pixel channel c % 3 over the 8×8 block and frame 0 (t = 0) or frames 4t−3 … 4t (as the Wan VAE
     * groups them).
     */
    static final class BlockMeanVae implements LatentEncoder {
        @Override
        public Tensor encode(Tensor video) {
            long frames = video.size(1);
            long f = (frames - 1) / 4 + 1;
            long h = video.size(2) / 8;
            long w = video.size(3) / 8;
            float[] v = new float[(int) (4 * f * h * w)];
            for (int c = 0; c < 4; c++) {
                for (int t = 0; t < f; t++) {
                    int from = t == 0 ? 0 : 4 * t - 3;
                    int to = t == 0 ? 0 : 4 * t;
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            double sum = 0;
                            for (int fr = from; fr <= to; fr++) {
                                for (int dy = 0; dy < 8; dy++) {
                                    for (int dx = 0; dx < 8; dx++) {
                                        sum += video.getDouble(c % 3, fr, 8 * y + dy, 8 * x + dx);
                                    }
                                }
                            }
                            v[(int) (((c * f + t) * h + y) * w + x)] = (float) (sum / (64 * (to - from + 1)));
                        }
                    }
                }
            }
            return Tensor.of(v, 4, f, h, w);
        }

        @Override
        public DType dtype() {
            return DType.BF16;
        }
    }

    /**
     * A CLIP shaped like the fixture's synthetic one ([5, 16]) whose tokens are the 8×8 block means of the image it is
     * given, channel-major ([3, H/8, W/8] = 72 values, then zeros), for checking which image it saw.
     */
    static final class BlockMeanClip implements ClipEncoder {
        @Override
        public Tensor encode(Tensor image) {
            long h = image.size(1) / 8;
            long w = image.size(2) / 8;
            float[] v = new float[5 * 16];
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        double sum = 0;
                        for (int dy = 0; dy < 8; dy++) {
                            for (int dx = 0; dx < 8; dx++) {
                                sum += image.getDouble(c, 8 * y + dy, 8 * x + dx);
                            }
                        }
                        v[(int) ((c * h + y) * w + x)] = (float) (sum / 64);
                    }
                }
            }
            return Tensor.of(v, 5, 16);
        }
    }

    static final class T5 implements TextEncoder {
        final List<String> prompts = new ArrayList<>();

        @Override
        public Tensor encode(String prompt) {
            prompts.add(prompt);
            int rows = prompt.isBlank() ? 1 : prompt.strip().split("\\s+").length + 1;
            float[] v = new float[rows * 32];
            SplittableRandom r = new SplittableRandom(prompt.hashCode());
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextDouble(-1, 1);
            }
            return Tensor.of(v, rows, 32);
        }

        @Override
        public void close() {
        }
    }
}
