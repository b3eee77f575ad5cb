package dev.loraid.core.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The demo's procedural world: {@value #SIZE}×{@value #SIZE} pictures of one to three objects on a dark background,
 * each with its caption. The base model learns the base objects (four colours × three shapes, "a red circle and a
 * blue square"); the three characters are new words bound to looks the base never saw: {@code zorp} an orange ring,
 * {@code blix} a purple diamond with dark stripes, {@code quen} a cyan cross.
 */
public final class DemoScenes {
    public static final int SIZE = 48;
    static final float[] BACKGROUND = {0.12f, 0.12f, 0.14f};
    /** Object radius in pixels (objects span about 2·R + 1). */
    static final int R = 10;

    /** A base colour or a character colour, by its word. */
    public record Colour(String word, float[] rgb) {
    }

    /** The background's R, G, B (a copy). */
    public static float[] background() {
        return BACKGROUND.clone();
    }

    public enum Shape { CIRCLE, SQUARE, TRIANGLE, RING, STRIPED_DIAMOND, CROSS }

    /** Something that can be drawn: its caption phrase, colour and shape. */
    public record Look(String phrase, Colour colour, Shape shape) {
    }

    /** One object of a scene at its centre. */
    public record Placed(Look look, int cx, int cy) {
    }

    /** A scene and its caption. */
    public record Scene(List<Placed> objects, String caption) {
        public Picture render() {
            Picture p = new Picture(SIZE, SIZE);
            p.fill(BACKGROUND);
            for (Placed o : objects) {
                draw(p, o);
            }
            return p;
        }
    }

    public static final List<Colour> BASE_COLOURS = List.of(
            new Colour("red", new float[] {0.95f, 0.15f, 0.12f}),
            new Colour("green", new float[] {0.15f, 0.80f, 0.20f}),
            new Colour("blue", new float[] {0.15f, 0.30f, 0.95f}),
            new Colour("yellow", new float[] {0.95f, 0.90f, 0.15f}));
    public static final List<Shape> BASE_SHAPES = List.of(Shape.CIRCLE, Shape.SQUARE, Shape.TRIANGLE);
    static final float[] STRIPE = {0.25f, 0.08f, 0.40f};

    /** The three characters, LORAID IDs 1, 2, 3 in this order. */
    public static final List<Look> CHARACTERS = List.of(
            new Look("zorp", new Colour("orange", new float[] {1.0f, 0.55f, 0.0f}), Shape.RING),
            new Look("blix", new Colour("purple", new float[] {0.70f, 0.25f, 0.95f}), Shape.STRIPED_DIAMOND),
            new Look("quen", new Colour("cyan", new float[] {0.0f, 0.90f, 0.85f}), Shape.CROSS));

    private DemoScenes() {
    }

    /** Every word a caption or prompt of the demo uses (the demo tokenizer's whole-word pieces). */
    public static List<String> words() {
        List<String> w = new ArrayList<>(List.of("a", "and"));
        BASE_COLOURS.forEach(c -> w.add(c.word()));
        BASE_SHAPES.forEach(s -> w.add(s.name().toLowerCase()));
        CHARACTERS.forEach(c -> w.add(c.phrase()));
        return w;
    }

    /**
     * A base scene: one to three random base objects, e.g. "a red circle and a blue square"; one scene in ten has an
     * empty caption, so the model also learns the unconditional prediction that classifier-free guidance needs.
     */
    public static Scene base(SplittableRandom r) {
        int n = 1 + r.nextInt(3);
        List<Look> looks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            looks.add(randomBase(r));
        }
        Scene s = place(looks, r);
        return r.nextInt(10) == 0 ? new Scene(s.objects(), "") : s;
    }

    /** A scene of character {@code c}: alone, or (one time in three) with one base object, in random order. */
    public static Scene character(int c, SplittableRandom r) {
        List<Look> looks = new ArrayList<>();
        looks.add(CHARACTERS.get(c));
        if (r.nextInt(3) == 0) {
            looks.add(r.nextBoolean() ? 1 : 0, randomBase(r));
        }
        return place(looks, r);
    }

    private static Look randomBase(SplittableRandom r) {
        Colour c = BASE_COLOURS.get(r.nextInt(BASE_COLOURS.size()));
        Shape s = BASE_SHAPES.get(r.nextInt(BASE_SHAPES.size()));
        return new Look("a " + c.word() + " " + s.name().toLowerCase(), c, s);
    }

    /** Random centres at least 2·R + 2 apart, inside the picture. */
    private static Scene place(List<Look> looks, SplittableRandom r) {
        List<Placed> placed = new ArrayList<>();
        for (Look l : looks) {
            for (int attempt = 0; ; attempt++) {
                int cx = R + 1 + r.nextInt(SIZE - 2 * R - 2);
                int cy = R + 1 + r.nextInt(SIZE - 2 * R - 2);
                boolean free = placed.stream().allMatch(p -> Math.hypot(p.cx() - cx, p.cy() - cy) >= 2 * R + 2);
                if (free || attempt > 200) {
                    placed.add(new Placed(l, cx, cy));
                    break;
                }
            }
        }
        return new Scene(placed, String.join(" and ", looks.stream().map(Look::phrase).toList()));
    }

    private static void draw(Picture p, Placed o) {
        for (int y = o.cy() - R; y <= o.cy() + R; y++) {
            for (int x = o.cx() - R; x <= o.cx() + R; x++) {
                if (x < 0 || y < 0 || x >= SIZE || y >= SIZE) {
                    continue;
                }
                int dx = x - o.cx();
                int dy = y - o.cy();
                double d = Math.hypot(dx, dy);
                boolean inside = switch (o.look().shape()) {
                    case CIRCLE -> d <= R;
                    case SQUARE -> Math.abs(dx) <= R - 1 && Math.abs(dy) <= R - 1;
                    case TRIANGLE -> dy >= -R && dy <= R && Math.abs(dx) <= (dy + R) / 2.0;
                    case RING -> d <= R && d >= R - 5;
                    case STRIPED_DIAMOND -> Math.abs(dx) + Math.abs(dy) <= R + 1;
                    case CROSS -> (Math.abs(dx) <= 3 && Math.abs(dy) <= R) || (Math.abs(dy) <= 3 && Math.abs(dx) <= R);
                };
                if (inside) {
                    boolean stripe = o.look().shape() == Shape.STRIPED_DIAMOND && Math.floorMod(dy + 2, 8) < 4;
                    p.set(x, y, stripe ? STRIPE : o.look().colour().rgb());
                }
            }
        }
    }
}
