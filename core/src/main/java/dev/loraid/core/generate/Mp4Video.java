package dev.loraid.core.generate;

import dev.loraid.core.LoraidException;
import org.jcodec.codecs.h264.H264Encoder;
import org.jcodec.common.Codec;
import org.jcodec.common.MuxerTrack;
import org.jcodec.common.VideoCodecMeta;
import org.jcodec.common.VideoEncoder;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.io.SeekableByteChannel;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Packet;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Size;
import org.jcodec.containers.mp4.muxer.MP4Muxer;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Frames as an H.264 MP4 (upstream's {@code --output_type video}, training.md §6.7), written in this JVM by JCodec's
 * encoder ({@link H264Encoder}, JCodec's default rate control and key-frame interval, into {@link MP4Muxer}; JCodec's
 * SequenceEncoder takes only RGB pictures and converts them its own way). Each {@link BufferedImage} becomes a 4:2:0
 * picture here (so no jcodec-javase): BT.601 limited ("TV") range, what players and JCodec's own decoder assume for an
 * H.264 stream without a full-range flag (JCodec writes none), each chroma sample the mean of its 2×2 block; the
 * planes go into a {@link ColorSpace#YUV420J} picture only because that is the layout its encoder accepts. Width and height must be even (generated
 * frames are multiples of 8). The file appears atomically (temp file in the same folder, fsync, rename).
 */
public final class Mp4Video {
    private static final double LUMA = 219.0 / 255;
    private static final double CHROMA = 224.0 / 255;

    private Mp4Video() {
    }

    /** Writes {@code frames} (all one size) to {@code target} at {@code fps} frames per second. */
    public static void write(List<BufferedImage> frames, int fps, Path target) throws IOException {
        if (frames.isEmpty()) {
            throw new LoraidException("cannot write " + target + ": no frames");
        }
        if (fps < 1) {
            throw new LoraidException("cannot write " + target + ": fps must be ≥ 1, got " + fps);
        }
        int w = frames.getFirst().getWidth();
        int h = frames.getFirst().getHeight();
        if (w % 2 != 0 || h % 2 != 0) {
            throw new LoraidException("cannot write " + target + ": H.264 4:2:0 needs an even width and height, got " + w
                    + "×" + h);
        }
        Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
        try {
            try (SeekableByteChannel ch = NIOUtils.writableChannel(tmp.toFile())) {
                MP4Muxer muxer = MP4Muxer.createMP4MuxerToChannel(ch);
                MuxerTrack track = muxer.addVideoTrack(Codec.H264,
                        VideoCodecMeta.createSimpleVideoCodecMeta(new Size(w, h), ColorSpace.YUV420J));
                H264Encoder encoder = H264Encoder.createH264Encoder();
                ByteBuffer buffer = null;
                for (int i = 0; i < frames.size(); i++) {
                    BufferedImage f = frames.get(i);
                    if (f.getWidth() != w || f.getHeight() != h) {
                        throw new LoraidException("cannot write " + target + ": frame " + i + " is " + f.getWidth() + "×"
                                + f.getHeight() + ", frame 0 " + w + "×" + h);
                    }
                    Picture pic = yuv420(f);
                    if (buffer == null) {
                        buffer = ByteBuffer.allocate(encoder.estimateBufferSize(pic));
                    }
                    buffer.clear();
                    VideoEncoder.EncodedFrame ef = encoder.encodeFrame(pic, buffer);
                    // timescale fps: frame i at pts i, duration 1
                    track.addFrame(Packet.createPacket(ef.getData(), i, fps, 1, i,
                            ef.isKeyFrame() ? Packet.FrameType.KEY : Packet.FrameType.INTER, null));
                }
                muxer.finish();
            }
            try (FileChannel fc = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                fc.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            if (e instanceof LoraidException || e instanceof IOException) {
                throw e;
            }
            throw new LoraidException("cannot write " + target + ": " + e, e);
        }
    }

    /**
     * RGB → YUV 4:2:0 BT.601 limited range in JCodec's signed planes (value − 128), with E = 0.299 R + 0.587 G + 0.114 B:
     * Y = 16 + 219/255·E, Cb = 128 + 224/255·(B − E)/1.772, Cr = 128 + 224/255·(R − E)/1.402 (the inverse of
     * {@code Videos.toRgb}'s YUV420 branch, which reads training videos).
     */
    static Picture yuv420(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        Picture p = Picture.create(w, h, ColorSpace.YUV420J);
        byte[] ys = p.getPlaneData(0);
        byte[] us = p.getPlaneData(1);
        byte[] vs = p.getPlaneData(2);
        int yStride = p.getPlaneWidth(0);
        int cStride = p.getPlaneWidth(1);
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int cy = 0; cy < h / 2; cy++) {
            for (int cx = 0; cx < w / 2; cx++) {
                double sumU = 0;
                double sumV = 0;
                for (int dy = 0; dy < 2; dy++) {
                    for (int dx = 0; dx < 2; dx++) {
                        int x = 2 * cx + dx;
                        int y = 2 * cy + dy;
                        int px = rgb[y * w + x];
                        double r = (px >> 16) & 255;
                        double g = (px >> 8) & 255;
                        double b = px & 255;
                        double luma = 0.299 * r + 0.587 * g + 0.114 * b;
                        ys[y * yStride + x] = (byte) (clamp(16 + LUMA * luma) - 128);
                        sumU += CHROMA * (b - luma) / 1.772;
                        sumV += CHROMA * (r - luma) / 1.402;
                    }
                }
                us[cy * cStride + cx] = (byte) (clamp(128 + sumU / 4) - 128);
                vs[cy * cStride + cx] = (byte) (clamp(128 + sumV / 4) - 128);
            }
        }
        return p;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }
}
