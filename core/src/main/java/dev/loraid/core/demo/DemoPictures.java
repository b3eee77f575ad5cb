package dev.loraid.core.demo;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/** The demo's figures: a labelled grid PNG and an animated GIF, with javax.imageio only. */
final class DemoPictures {
    static final int SCALE = 2;
    private static final int LABEL_W = 150;
    private static final int LABEL_H = 18;
    private static final int GAP = 4;

    private DemoPictures() {
    }

    /** Rows × columns of pictures, row labels on the left, column labels on top. */
    static BufferedImage grid(List<String> rowLabels, List<String> columnLabels, Picture[][] pictures) {
        int cell = DemoScenes.SIZE * SCALE;
        int w = LABEL_W + columnLabels.size() * (cell + GAP);
        int h = LABEL_H + rowLabels.size() * (cell + GAP);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        for (int r = 0; r < rowLabels.size(); r++) {
            for (int c = 0; c < columnLabels.size(); c++) {
                pictures[r][c].drawInto(img, LABEL_W + c * (cell + GAP), LABEL_H + r * (cell + GAP), SCALE);
            }
        }
        try {
            g.setColor(Color.BLACK);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            for (int c = 0; c < columnLabels.size(); c++) {
                String label = columnLabels.get(c);
                for (int size = 11; size > 6 && g.getFontMetrics().stringWidth(label) > cell; size--) {
                    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, size - 1)); // long prompts shrink to their column
                }
                g.drawString(label, LABEL_W + c * (cell + GAP), LABEL_H - 5);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            }
            for (int r = 0; r < rowLabels.size(); r++) {
                g.drawString(rowLabels.get(r), 4, LABEL_H + r * (cell + GAP) + cell / 2);
            }
        } catch (RuntimeException | Error e) {
            // a JVM without usable fonts: the grid without labels (their order is in table.json and the README)
        } finally {
            g.dispose();
        }
        return img;
    }

    static void writePng(BufferedImage img, Path file) throws IOException {
        if (!ImageIO.write(img, "png", file.toFile())) {
            throw new IOException("no PNG writer in this JVM");
        }
    }

    /** An animated GIF looping over {@code frames}, {@code delayCs} hundredths of a second each. */
    static void writeGif(List<BufferedImage> frames, int delayCs, Path file) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("gif");
        if (!writers.hasNext()) {
            throw new IOException("no GIF writer in this JVM");
        }
        ImageWriter writer = writers.next();
        java.nio.file.Files.deleteIfExists(file);
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            writer.setOutput(out);
            writer.prepareWriteSequence(null);
            for (BufferedImage frame : frames) {
                ImageTypeSpecifier type = ImageTypeSpecifier.createFromRenderedImage(frame);
                IIOMetadata meta = writer.getDefaultImageMetadata(type, null);
                String format = meta.getNativeMetadataFormatName();
                IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(format);
                IIOMetadataNode gce = new IIOMetadataNode("GraphicControlExtension");
                gce.setAttribute("disposalMethod", "none");
                gce.setAttribute("userInputFlag", "FALSE");
                gce.setAttribute("transparentColorFlag", "FALSE");
                gce.setAttribute("delayTime", Integer.toString(delayCs));
                gce.setAttribute("transparentColorIndex", "0");
                root.appendChild(gce);
                IIOMetadataNode apps = new IIOMetadataNode("ApplicationExtensions");
                IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
                app.setAttribute("applicationID", "NETSCAPE");
                app.setAttribute("authenticationCode", "2.0");
                app.setUserObject(new byte[] {1, 0, 0}); // loop forever
                apps.appendChild(app);
                root.appendChild(apps);
                meta.setFromTree(format, root);
                writer.writeToSequence(new IIOImage(frame, null, meta), null);
            }
            writer.endWriteSequence();
        } finally {
            writer.dispose();
        }
    }
}
