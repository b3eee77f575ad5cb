package dev.loraid.core.demo;

import java.awt.image.BufferedImage;

/** An RGB picture, channels in [0, 1], stored [3, height, width]. */
public final class Picture {
    private final int width;
    private final int height;
    private final float[] rgb;

    public Picture(int width, int height) {
        this.width = width;
        this.height = height;
        this.rgb = new float[3 * width * height];
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public float get(int c, int x, int y) {
        return rgb[(c * height + y) * width + x];
    }

    public void set(int c, int x, int y, float v) {
        rgb[(c * height + y) * width + x] = v;
    }

    public void set(int x, int y, float[] colour) {
        for (int c = 0; c < 3; c++) {
            set(c, x, y, colour[c]);
        }
    }

    public void fill(float[] colour) {
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                set(x, y, colour);
            }
        }
    }

    /** This picture enlarged {@code scale}× (nearest) into {@code into} at (x0, y0). */
    public void drawInto(BufferedImage into, int x0, int y0, int scale) {
        for (int y = 0; y < height * scale; y++) {
            for (int x = 0; x < width * scale; x++) {
                int r = Math.round(get(0, x / scale, y / scale) * 255);
                int g = Math.round(get(1, x / scale, y / scale) * 255);
                int b = Math.round(get(2, x / scale, y / scale) * 255);
                into.setRGB(x0 + x, y0 + y, (r << 16) | (g << 8) | b);
            }
        }
    }

    public BufferedImage toImage(int scale) {
        BufferedImage img = new BufferedImage(width * scale, height * scale, BufferedImage.TYPE_INT_RGB);
        drawInto(img, 0, 0, scale);
        return img;
    }
}
