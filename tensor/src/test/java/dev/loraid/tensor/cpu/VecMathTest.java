package dev.loraid.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hand-written vector exp against {@link Math#exp}, over the whole float range, lane by lane. */
class VecMathTest {
    @Test
    void expIsWithinTwoUlpsAndHandlesTheEdges() {
        int vl = Lanes.VL;
        float[] x = new float[vl];
        float[] y = new float[vl];
        double worst = 0;
        for (float v = -87f; v < 88f; ) {
            for (int i = 0; i < vl; i++, v += 0.0137f) {
                x[i] = v;
            }
            VecMath.exp(FloatVector.fromArray(Lanes.F, x, 0)).intoArray(y, 0);
            for (int i = 0; i < vl; i++) {
                float expect = (float) Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - expect) / Math.ulp(expect));
            }
        }
        assertTrue(worst <= 2, "exp is off by " + worst + " ulp");
        float[] edge = new float[vl];
        float[] special = {Float.NEGATIVE_INFINITY, -1000f, 0f, Float.POSITIVE_INFINITY, Float.NaN, 1000f};
        for (int i = 0; i < vl; i++) {
            edge[i] = special[i % special.length];
        }
        VecMath.exp(FloatVector.fromArray(Lanes.F, edge, 0)).intoArray(y, 0);
        for (int i = 0; i < vl; i++) {
            float expect = (float) Math.exp(edge[i]);
            assertEquals(expect, y[i], 0f, "exp(" + edge[i] + ")");
        }
    }
}
