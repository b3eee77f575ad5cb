package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What of the CUDNN attention path runs without a GPU: library discovery and its message, the enum values the
 * bindings pass (checked against cuDNN 9's {@code cudnn_graph.h}), and which calls the path may take.
 */
class CuDnnBindingTest {
    @TempDir
    Path tmp;

    @Test
    void discoveryFindsThePipWheelFolderOrSaysWhereItLooked() throws IOException {
        Path lib = tmp.resolve("venv/lib/python3.12/site-packages/nvidia/cudnn/lib");
        Files.createDirectories(lib);
        Files.writeString(lib.resolve("libcudnn.so.9"), "not really a shared library");
        CudaLibraries libs = new CudaLibraries(List.of(tmp.resolve("empty"), lib));
        assertEquals(lib.resolve("libcudnn.so.9"), libs.locate(CudaLibraries.CUDNN).orElseThrow());

        CudaLibraries none = new CudaLibraries(List.of(tmp.resolve("empty")));
        assertTrue(none.locate(CudaLibraries.CUDNN).isEmpty());
        String msg = none.notFoundMessage(CudaLibraries.CUDNN);
        assertTrue(msg.startsWith("cuDNN library not found: looked for libcudnn.so.9 in " + tmp.resolve("empty")), msg);
        assertTrue(msg.contains("nvidia-cudnn") && msg.contains("-Dloraid.cuda.libpath"), msg);
    }

    @Test
    void aLibraryThatDoesNotLoadIsNamedWithTheFileFound() throws IOException {
        Path lib = tmp.resolve("cudnn/lib");
        Files.createDirectories(lib);
        Files.writeString(lib.resolve("libcudnn.so.9"), "not really a shared library");
        CudaLibraries.NotFoundException e = assertThrows(CudaLibraries.NotFoundException.class,
            () -> CuDnn.load(new CudaLibraries(List.of(lib))));
        assertTrue(e.getMessage().contains("cuDNN: found " + lib.resolve("libcudnn.so.9") + " but it does not load"),
            e.getMessage());
    }

    /**
     * The values below are cuDNN 9's, written from {@code cudnn_graph.h} (enums cudnnBackendDescriptorType_t,
     * cudnnBackendAttributeType_t, cudnnBackendAttributeName_t, cudnnDataType_t, cudnnPointwiseMode_t,
     * cudnnBackendHeurMode_t, cudnnStatus_t) and {@code cudnn_ops.h} (cudnnReduceTensorOp_t), checked against two
     * independent transcriptions of those headers; the descriptor types are implicit (consecutive from 0) there.
     */
    @Test
    void enumValuesAreCudnn9Headers() {
        // cudnnBackendDescriptorType_t (implicitly numbered from CUDNN_BACKEND_POINTWISE_DESCRIPTOR = 0)
        assertEquals(0, CuDnn.POINTWISE_DESCRIPTOR);
        assertEquals(3, CuDnn.ENGINECFG_DESCRIPTOR);
        assertEquals(4, CuDnn.ENGINEHEUR_DESCRIPTOR);
        assertEquals(5, CuDnn.EXECUTION_PLAN_DESCRIPTOR);
        assertEquals(13, CuDnn.OPERATION_POINTWISE_DESCRIPTOR);
        assertEquals(15, CuDnn.OPERATIONGRAPH_DESCRIPTOR);
        assertEquals(16, CuDnn.VARIANT_PACK_DESCRIPTOR);
        assertEquals(17, CuDnn.TENSOR_DESCRIPTOR);
        assertEquals(18, CuDnn.MATMUL_DESCRIPTOR);
        assertEquals(19, CuDnn.OPERATION_MATMUL_DESCRIPTOR);
        assertEquals(21, CuDnn.REDUCTION_DESCRIPTOR);
        assertEquals(22, CuDnn.OPERATION_REDUCTION_DESCRIPTOR);
        assertEquals(31, CuDnn.OPERATION_RESHAPE_DESCRIPTOR);
        // cudnnBackendAttributeType_t (implicit from CUDNN_TYPE_HANDLE = 0)
        assertEquals(0, CuDnn.TYPE_HANDLE);
        assertEquals(1, CuDnn.TYPE_DATA_TYPE);
        assertEquals(2, CuDnn.TYPE_BOOLEAN);
        assertEquals(3, CuDnn.TYPE_INT64);
        assertEquals(4, CuDnn.TYPE_FLOAT);
        assertEquals(6, CuDnn.TYPE_VOID_PTR);
        assertEquals(8, CuDnn.TYPE_HEUR_MODE);
        assertEquals(14, CuDnn.TYPE_POINTWISE_MODE);
        assertEquals(15, CuDnn.TYPE_BACKEND_DESCRIPTOR);
        assertEquals(18, CuDnn.TYPE_REDUCTION_OPERATOR_TYPE);
        // cudnnBackendAttributeName_t (explicit values)
        assertEquals(0, CuDnn.ATTR_POINTWISE_MODE);
        assertEquals(1, CuDnn.ATTR_POINTWISE_MATH_PREC);
        assertEquals(200, CuDnn.ATTR_ENGINEHEUR_MODE);
        assertEquals(201, CuDnn.ATTR_ENGINEHEUR_OPERATION_GRAPH);
        assertEquals(202, CuDnn.ATTR_ENGINEHEUR_RESULTS);
        assertEquals(400, CuDnn.ATTR_EXECUTION_PLAN_HANDLE);
        assertEquals(401, CuDnn.ATTR_EXECUTION_PLAN_ENGINE_CONFIG);
        assertEquals(402, CuDnn.ATTR_EXECUTION_PLAN_WORKSPACE_SIZE);
        assertEquals(750, CuDnn.ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR);
        assertEquals(751, CuDnn.ATTR_OPERATION_POINTWISE_XDESC);
        assertEquals(752, CuDnn.ATTR_OPERATION_POINTWISE_BDESC);
        assertEquals(753, CuDnn.ATTR_OPERATION_POINTWISE_YDESC);
        assertEquals(800, CuDnn.ATTR_OPERATIONGRAPH_HANDLE);
        assertEquals(801, CuDnn.ATTR_OPERATIONGRAPH_OPS);
        assertEquals(900, CuDnn.ATTR_TENSOR_BYTE_ALIGNMENT);
        assertEquals(901, CuDnn.ATTR_TENSOR_DATA_TYPE);
        assertEquals(902, CuDnn.ATTR_TENSOR_DIMENSIONS);
        assertEquals(903, CuDnn.ATTR_TENSOR_STRIDES);
        assertEquals(906, CuDnn.ATTR_TENSOR_UNIQUE_ID);
        assertEquals(907, CuDnn.ATTR_TENSOR_IS_VIRTUAL);
        assertEquals(908, CuDnn.ATTR_TENSOR_IS_BY_VALUE);
        assertEquals(1000, CuDnn.ATTR_VARIANT_PACK_UNIQUE_IDS);
        assertEquals(1001, CuDnn.ATTR_VARIANT_PACK_DATA_POINTERS);
        assertEquals(1003, CuDnn.ATTR_VARIANT_PACK_WORKSPACE);
        assertEquals(1500, CuDnn.ATTR_MATMUL_COMP_TYPE);
        assertEquals(1520, CuDnn.ATTR_OPERATION_MATMUL_ADESC);
        assertEquals(1521, CuDnn.ATTR_OPERATION_MATMUL_BDESC);
        assertEquals(1522, CuDnn.ATTR_OPERATION_MATMUL_CDESC);
        assertEquals(1523, CuDnn.ATTR_OPERATION_MATMUL_DESC);
        assertEquals(1600, CuDnn.ATTR_REDUCTION_OPERATOR);
        assertEquals(1601, CuDnn.ATTR_REDUCTION_COMP_TYPE);
        assertEquals(1610, CuDnn.ATTR_OPERATION_REDUCTION_XDESC);
        assertEquals(1611, CuDnn.ATTR_OPERATION_REDUCTION_YDESC);
        assertEquals(1612, CuDnn.ATTR_OPERATION_REDUCTION_DESC);
        assertEquals(2200, CuDnn.ATTR_OPERATION_RESHAPE_XDESC);
        assertEquals(2201, CuDnn.ATTR_OPERATION_RESHAPE_YDESC);
        // cudnnDataType_t
        assertEquals(0, CuDnn.DATA_FLOAT);
        assertEquals(2, CuDnn.DATA_HALF);
        assertEquals(9, CuDnn.DATA_BFLOAT16);
        // cudnnPointwiseMode_t (explicit values, not in declaration order)
        assertEquals(0, CuDnn.POINTWISE_ADD);
        assertEquals(1, CuDnn.POINTWISE_MUL);
        assertEquals(6, CuDnn.POINTWISE_DIV);
        assertEquals(9, CuDnn.POINTWISE_SUB);
        assertEquals(13, CuDnn.POINTWISE_EXP);
        assertEquals(15, CuDnn.POINTWISE_LOG);
        assertEquals(21, CuDnn.POINTWISE_IDENTITY);
        // cudnnReduceTensorOp_t: ADD, MUL, MIN, MAX, ...
        assertEquals(0, CuDnn.REDUCE_ADD);
        assertEquals(3, CuDnn.REDUCE_MAX);
        // cudnnBackendHeurMode_t: INSTANT, B, FALLBACK, A
        assertEquals(2, CuDnn.HEUR_MODE_FALLBACK);
        assertEquals(3, CuDnn.HEUR_MODE_A);
        // cudnnStatus_t (9.x: categories in thousands)
        assertEquals(0, CuDnn.STATUS_SUCCESS);
        assertEquals(3000, CuDnn.STATUS_NOT_SUPPORTED);
        assertTrue(new CuDnn.Failure("x", 3007).notSupported());
        assertFalse(new CuDnn.Failure("x", 2000).notSupported());
    }

    private static Tensor blhd(DType t, long b, long h, long l, long d) {
        return Tensor.zeros(t, b, l, h, d).permute(0, 2, 1, 3);
    }

    @Test
    void cudnnTakesSixteenBitHeadDimsUpTo128WithUnitStrideAndNoMask() {
        Tensor q = blhd(DType.BF16, 2, 3, 130, 128);
        Tensor k = blhd(DType.BF16, 2, 3, 257, 128);
        assertTrue(CudnnAttention.eligible(null, q, k, k, q), "BF16, D = 128, Wan layout");
        assertTrue(CudnnAttention.eligible(null, blhd(DType.F16, 1, 1, 5, 64), blhd(DType.F16, 1, 1, 9, 64)));
        assertTrue(CudnnAttention.eligible(null, blhd(DType.BF16, 1, 1, 5, 24), blhd(DType.BF16, 1, 1, 9, 24)),
            "D = 24 is a multiple of 8");
        assertEquals(AttentionPath.CUDNN, CudaAttention.resolve(AttentionPath.CUDNN, q, k, k, null));

        assertFalse(CudnnAttention.eligible(new int[] {257, 3}, q, k, k), "key lengths (padding masks) not yet");
        assertFalse(CudnnAttention.eligible(null, blhd(DType.F32, 1, 1, 5, 64), blhd(DType.F32, 1, 1, 9, 64)), "F32");
        assertFalse(CudnnAttention.eligible(null, q, blhd(DType.F16, 2, 3, 257, 128)), "mixed dtypes");
        assertFalse(CudnnAttention.eligible(null, blhd(DType.BF16, 1, 1, 5, 20), blhd(DType.BF16, 1, 1, 9, 20)),
            "D = 20 is not a multiple of 8");
        assertFalse(CudnnAttention.eligible(null, blhd(DType.BF16, 1, 1, 5, 256), blhd(DType.BF16, 1, 1, 9, 256)),
            "D = 256 > 128");
        assertFalse(CudnnAttention.eligible(null, q, k, blhd(DType.BF16, 2, 3, 257, 64)), "D != Dv");
        Tensor strided = Tensor.zeros(DType.BF16, 1, 1, 64, 5).transpose(2, 3);
        assertFalse(CudnnAttention.eligible(null, strided, blhd(DType.BF16, 1, 1, 9, 64)), "stride along D != 1");
        assertEquals(AttentionPath.FLASH, CudaAttention.resolve(AttentionPath.CUDNN, q, k, k, new int[] {257, 3}),
            "a call cuDNN cannot take falls back along the chain");
    }
}
