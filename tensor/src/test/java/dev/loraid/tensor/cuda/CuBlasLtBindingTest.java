package dev.loraid.tensor.cuda;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cuBLASLt binding against the real library, without a GPU: every symbol resolves, and every descriptor,
 * layout and preference attribute the GEMM path sets is accepted (ids and sizes right) — so that with no
 * handle the first failing call is the heuristic itself. Skipped where cuBLASLt is not installed.
 */
@Tag("gpu")
class CuBlasLtBindingTest {
    private static CuBlasLt load() {
        try {
            return new CuBlasLt(CudaLibraries.fromEnvironment().load(CudaLibraries.CUBLASLT));
        } catch (CudaLibraries.NotFoundException | CudaException e) {
            assumeTrue(false, "cuBLASLt tests skipped: " + e.getMessage());
            return null;
        }
    }

    @Test
    void everyAttributeIsAcceptedUpToTheHeuristic() {
        CuBlasLt lt = load();
        assertTrue(lt.version() >= 120000, "cuBLASLt version " + lt.version());
        CuBlasLt.Layout a = new CuBlasLt.Layout(CuBlasLt.R_16BF, 96, 64, 96, 3, 0);
        CuBlasLt.Layout b = new CuBlasLt.Layout(CuBlasLt.R_16BF, 64, 40, 64, 3, 64 * 40);
        CuBlasLt.Layout c = new CuBlasLt.Layout(CuBlasLt.R_16BF, 96, 40, 96, 3, 96 * 40);
        CudaException e = assertThrows(CudaException.class, () -> lt.plan(MemorySegment.NULL, CuBlasLt.COMPUTE_32F,
            CuBlasLt.R_32F, CuBlasLt.OP_T, CuBlasLt.OP_N, a, b, c, CuBlasLt.EPILOGUE_BIAS, CuBlasLt.R_16BF, 32L << 20,
            new int[] {16, 256, 8}));
        assertTrue(e.getMessage().startsWith("cublasLtMatmulAlgoGetHeuristic failed"), e.getMessage());
    }
}
