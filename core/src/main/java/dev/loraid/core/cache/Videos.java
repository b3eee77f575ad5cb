package dev.loraid.core.cache;

import dev.loraid.core.LoraidException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jcodec.api.FrameGrab;
import org.jcodec.codecs.mpeg4.MPEG4Decoder;
import org.jcodec.codecs.mpeg4.mp4.EsdsBox;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.io.SeekableByteChannel;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Packet;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Rect;
import org.jcodec.containers.mp4.boxes.NodeBox;
import org.jcodec.containers.mp4.boxes.SampleEntry;
import org.jcodec.containers.mp4.boxes.VideoSampleEntry;
import org.jcodec.containers.mp4.demuxer.AbstractMP4DemuxerTrack;
import org.jcodec.containers.mp4.demuxer.MP4Demuxer;

/**
 * Decoding videos for caching (spec training.md §4.2-4.3): MP4/MOV files with H.264 ({@code avc1}) or MPEG-4 Part 2
 * ({@code mp4v}, what ffmpeg's default MP4 encoder writes) video through JCodec, and folders of frames (image files
 * in sorted name order). Upstream decodes with PyAV; its other containers (WebM, AVI, MKV, FLV, …) are refused with
 * a message naming what is supported.
 *
 * <p>Colour: YUV 4:2:0 to RGB with BT.601 limited-range coefficients and nearest chroma, as libswscale's unscaled
 * yuv420p → rgb24 path that PyAV uses; swscale's table-based arithmetic can differ by 1-2 levels. MPEG-4 Part 2 is
 * decoded in stream order: B-frames (not written by ffmpeg's default settings) would come out of order.
 */
public final class Videos {
    /** Upstream's VIDEO_EXTENSIONS (media_utils), lower case. */
    public static final List<String> EXTENSIONS = List.of(".mp4", ".webm", ".avi", ".mkv", ".mov", ".flv", ".wmv",
        ".m4v", ".mpg", ".mpeg");
    static final List<String> DECODABLE = List.of(".mp4", ".m4v", ".mov");
    static final String SUPPORTED = "supported: .mp4/.m4v/.mov with H.264 or MPEG-4 Part 2 video, and folders of "
        + "frames (.png .jpg .jpeg .webp .bmp)";

    private Videos() {
    }

    public static boolean isVideo(Path p) {
        return Files.isDirectory(p) || EXTENSIONS.contains(Images.extension(p));
    }

    /** Which decoded frames are kept: {@code source_fps} resampling (§4.3) and a cap on the kept count. */
    public interface FrameFilter {
        /** Whether decoded frame {@code index} (from 0) is kept. */
        boolean keep(int index);

        /** Kept frames after which decoding stops. */
        int limit();
    }

    /**
     * The frames of {@code video} that {@code filter} keeps, in display order, as 8-bit RGB.
     *
     * @throws LoraidException naming the file if it cannot be decoded or has no frames
     */
    public static List<RgbImage> read(Path video, FrameFilter filter) {
        List<RgbImage> frames;
        if (Files.isDirectory(video)) {
            frames = readFolder(video, filter);
        } else {
            String ext = Images.extension(video);
            if (!DECODABLE.contains(ext)) {
                throw new LoraidException(video + ": cannot decode " + (ext.isEmpty() ? "this file" : ext + " videos")
                    + "; " + SUPPORTED);
            }
            try {
                frames = readMp4(video, filter);
            } catch (LoraidException e) {
                throw e;
            } catch (Exception | StackOverflowError e) {
                throw new LoraidException(video + ": cannot decode the video (" + (e.getMessage() == null
                    ? e.getClass().getSimpleName() : e.getMessage()) + "); damaged or truncated? " + SUPPORTED, e);
            }
        }
        if (frames.isEmpty()) {
            throw new LoraidException(video + ": no frames decoded" + (Files.isDirectory(video)
                ? " (the folder holds no .png .jpg .jpeg .webp .bmp images)" : " (empty or truncated video?)"));
        }
        return frames;
    }

    private static List<RgbImage> readFolder(Path dir, FrameFilter filter) {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> Files.isRegularFile(p) && Images.isImage(p)).sorted().toList();
        } catch (IOException e) {
            throw new LoraidException(dir + ": cannot list the frame folder (" + e.getMessage() + ")", e);
        }
        List<RgbImage> out = new ArrayList<>();
        for (int i = 0; i < files.size() && out.size() < filter.limit(); i++) {
            if (filter.keep(i)) {
                out.add(Images.read(files.get(i)));
            }
        }
        return out;
    }

    private static List<RgbImage> readMp4(Path file, FrameFilter filter) throws Exception {
        List<RgbImage> out = new ArrayList<>();
        try (SeekableByteChannel ch = NIOUtils.readableChannel(file.toFile())) {
            MP4Demuxer demuxer = MP4Demuxer.createMP4Demuxer(ch);
            if (demuxer.getVideoTracks().isEmpty()) {
                throw new LoraidException(file + ": the file has no video track");
            }
            AbstractMP4DemuxerTrack track = (AbstractMP4DemuxerTrack) demuxer.getVideoTracks().get(0);
            SampleEntry[] entries = track.getSampleEntries();
            String fourcc = entries.length == 0 ? "?" : entries[0].getFourcc();
            if (fourcc.equals("mp4v")) {
                readMpeg4(file, track, (VideoSampleEntry) entries[0], filter, out);
                return out;
            }
            if (!fourcc.equals("avc1") && !fourcc.equals("avc3")) {
                throw new LoraidException(file + ": video codec '" + fourcc + "' cannot be decoded; " + SUPPORTED);
            }
        }
        try (SeekableByteChannel ch = NIOUtils.readableChannel(file.toFile())) {
            FrameGrab grab = FrameGrab.createFrameGrab(ch);
            Picture p;
            for (int i = 0; out.size() < filter.limit() && (p = grab.getNativeFrame()) != null; i++) {
                if (filter.keep(i)) {
                    out.add(toRgb(p, p.getCrop()));
                }
            }
        }
        return out;
    }

    /** MPEG-4 Part 2: the VOL header lives in the sample entry's esds box, so it goes in front of the first packet. */
    private static void readMpeg4(Path file, AbstractMP4DemuxerTrack track, VideoSampleEntry entry, FrameFilter filter,
                                  List<RgbImage> out) throws IOException {
        EsdsBox esds = NodeBox.findFirst(entry, EsdsBox.class, "esds");
        ByteBuffer config = esds == null ? null : esds.getStreamInfo();
        int w = entry.getWidth();
        int h = entry.getHeight();
        MPEG4Decoder decoder = new MPEG4Decoder();
        byte[][] buffer = Picture.create((w + 15) & ~15, (h + 15) & ~15, ColorSpace.YUV420).getData();
        Packet packet;
        boolean first = true;
        for (int i = 0; out.size() < filter.limit() && (packet = track.nextFrame()) != null; i++) {
            ByteBuffer data = packet.getData();
            if (first && config != null) {
                ByteBuffer joined = ByteBuffer.allocate(config.remaining() + data.remaining());
                joined.put(config.duplicate()).put(data).flip();
                data = joined;
            }
            first = false;
            Picture p = decoder.decodeFrame(data, buffer);
            if (p == null || p.getWidth() == 0) {
                throw new LoraidException(file + ": MPEG-4 Part 2 frame " + i + " did not decode");
            }
            if (filter.keep(i)) {
                Rect crop = p.getCrop() != null && p.getCrop().getWidth() > 0 ? p.getCrop() : new Rect(0, 0, w, h);
                out.add(toRgb(p, crop));
            }
        }
    }

    /** YUV 4:2:0 (JCodec's signed bytes, value - 128) → RGB, BT.601 limited range, nearest chroma. */
    static RgbImage toRgb(Picture p, Rect crop) {
        if (p.getColor() != ColorSpace.YUV420 && p.getColor() != ColorSpace.YUV420J) {
            throw new LoraidException("unsupported decoded colour format " + p.getColor() + " (expected YUV 4:2:0)");
        }
        int x0 = crop == null ? 0 : crop.getX();
        int y0 = crop == null ? 0 : crop.getY();
        int w = crop == null ? p.getWidth() : crop.getWidth();
        int h = crop == null ? p.getHeight() : crop.getHeight();
        byte[] ys = p.getPlaneData(0);
        byte[] us = p.getPlaneData(1);
        byte[] vs = p.getPlaneData(2);
        int yStride = p.getPlaneWidth(0);
        int cStride = p.getPlaneWidth(1);
        boolean full = p.getColor() == ColorSpace.YUV420J;
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sx = x0 + x;
                int sy = y0 + y;
                int yy = ys[sy * yStride + sx] + 128;
                int u = us[(sy >> 1) * cStride + (sx >> 1)];
                int v = vs[(sy >> 1) * cStride + (sx >> 1)];
                double l = full ? yy : 1.164383 * (yy - 16);
                double cr = full ? 1.402 : 1.596027;
                double cgU = full ? 0.344136 : 0.391762;
                double cgV = full ? 0.714136 : 0.812968;
                double cb = full ? 1.772 : 2.017232;
                int o = (y * w + x) * 3;
                out[o] = clamp(l + cr * v);
                out[o + 1] = clamp(l - cgU * u - cgV * v);
                out[o + 2] = clamp(l + cb * u);
            }
        }
        return new RgbImage(w, h, out);
    }

    private static byte clamp(double v) {
        return (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
    }

}
