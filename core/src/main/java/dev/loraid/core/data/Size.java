package dev.loraid.core.data;

/** A width × height in pixels, in upstream's order [width, height] (spec training.md §4.1 "resolution"). */
public record Size(int width, int height) {
    public long area() {
        return (long) width * height;
    }

    @Override
    public String toString() {
        return width + "x" + height;
    }
}
