package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DynamicQuant8;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One bitsandbytes AdamW8bit step in place ({@code kOptimizerStatic8bit2StateBlockwise}, in fp32 as there), one
 * {@link DynamicQuant8#BLOCK}-element block at a time, the blocks spread over the pool: dequantize both moments with the
 * block's absmax, update them, step the parameter (decay after the step, as bitsandbytes does), then requantize the
 * moments against the block's new absmax. The step-dependent factors come from the caller, computed once in double.
 */
final class CpuAdamW8bit {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Blocks per task: 8 Ki elements, so that a LoRA matrix (32 x 1536: 48 Ki) still spreads over the threads. */
    private static final int BLOCKS_PER_TASK = 32;

    private CpuAdamW8bit() {
    }

    /**
     * @param stepSize    {@code -lr · √(1 − β2^t) / (1 − β1^t)}
     * @param correction2 {@code √(1 − β2^t)}
     */
    static void update(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor absmaxM, Tensor absmaxV, Tensor mapM,
                       Tensor mapV, float beta1, float beta2, float eps, float lr, float weightDecay, float stepSize,
                       float correction2) {
        long n = param.numel();
        long blocks = DynamicQuant8.blocks(n);
        float[] codeM = mapM.toFloatArray();
        float[] codeV = mapV.toFloatArray();
        NearestCodes nearestM = NearestCodes.of(codeM, true);
        NearestCodes nearestV = NearestCodes.of(codeV, false);
        MemorySegment p = param.storage().segment();
        MemorySegment g = grad.storage().segment();
        MemorySegment qm = m.storage().segment();
        MemorySegment qv = v.storage().segment();
        MemorySegment am = absmaxM.storage().segment();
        MemorySegment av = absmaxV.storage().segment();
        long p0 = param.offset();
        long g0 = grad.offset();
        long m0 = m.offset();
        long v0 = v.offset();
        long am0 = absmaxM.offset();
        long av0 = absmaxV.offset();
        int tasks = (int) ((blocks + BLOCKS_PER_TASK - 1) / BLOCKS_PER_TASK);
        Parallel.forEach(tasks, task -> {
            int block = DynamicQuant8.BLOCK;
            float[] gb = new float[block];
            float[] pb = new float[block];
            byte[] cm = new byte[block];
            byte[] cv = new byte[block];
            float[] s1 = new float[block];
            float[] s2 = new float[block];
            long lastBlock = Math.min(blocks, (long) (task + 1) * BLOCKS_PER_TASK);
            for (long b = (long) task * BLOCKS_PER_TASK; b < lastBlock; b++) {
                long i0 = b * block;
                int len = (int) Math.min(block, n - i0);
                MemorySegment.copy(g, F32, (g0 + i0) * Float.BYTES, gb, 0, len);
                MemorySegment.copy(p, F32, (p0 + i0) * Float.BYTES, pb, 0, len);
                MemorySegment.copy(qm, ValueLayout.JAVA_BYTE, m0 + i0, cm, 0, len);
                MemorySegment.copy(qv, ValueLayout.JAVA_BYTE, v0 + i0, cv, 0, len);
                float scaleM = am.getAtIndex(F32, am0 + b);
                float scaleV = av.getAtIndex(F32, av0 + b);
                float max1 = 0f;
                float max2 = 0f;
                for (int j = 0; j < len; j++) {
                    float gv = gb[j];
                    if (Float.isFinite(gv)) {
                        s1[j] = codeM[cm[j] & 0xFF] * scaleM * beta1 + (1f - beta1) * gv;
                        s2[j] = codeV[cv[j] & 0xFF] * scaleV * beta2 + (1f - beta2) * gv * gv;
                        float pv = pb[j] + stepSize * (s1[j] / ((float) Math.sqrt(s2[j]) + correction2 * eps));
                        pb[j] = weightDecay > 0f ? pv * (1f - lr * weightDecay) : pv;
                    } else { // bitsandbytes: a non-finite gradient leaves the parameter and zeroes its moments
                        s1[j] = 0f;
                        s2[j] = 0f;
                    }
                    max1 = Math.max(max1, Math.abs(s1[j]));
                    max2 = Math.max(max2, s2[j]);
                }
                for (int j = 0; j < len; j++) {
                    cm[j] = (byte) signedCode(nearestM, codeM, s1[j], max1);
                    cv[j] = (byte) nearestV.nearest(max2 > 0 ? s2[j] / max2 : 0f);
                }
                MemorySegment.copy(pb, 0, p, F32, (p0 + i0) * Float.BYTES, len);
                MemorySegment.copy(cm, 0, qm, ValueLayout.JAVA_BYTE, m0 + i0, len);
                MemorySegment.copy(cv, 0, qv, ValueLayout.JAVA_BYTE, v0 + i0, len);
                am.setAtIndex(F32, am0 + b, max1);
                av.setAtIndex(F32, av0 + b, max2);
            }
        });
    }

    /** The first moment's code: the nearest, moved one step outwards where rounding flipped the sign (bitsandbytes). */
    private static int signedCode(NearestCodes nearest, float[] code, float s, float absmax) {
        int c = nearest.nearest(absmax > 0 ? s / absmax : 0f);
        if ((Float.floatToRawIntBits(code[c]) < 0) != (Float.floatToRawIntBits(s) < 0)) {
            c += s > 0f ? 1 : -1;
        }
        return c & 0xFF;
    }
}
