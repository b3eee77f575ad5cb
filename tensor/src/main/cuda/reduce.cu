// Reduction over chosen dimensions (keepdim). The Java side splits x's dimensions into `outer` (the kept ones,
// the same sizes as `out`) and `inner` (the reduced ones); one block reduces one output element.
#include "loraid_common.cuh"

// The order of dev.loraid.tensor.ReduceOp (checked by CudaSourcesTest).
enum ReduceCode { R_SUM, R_MEAN, R_MAX, R_MIN, R_SUM_SQUARES };

template <typename T> __device__ void reduce_impl(const Layout& outer, const Layout& inner, const Layout& o,
        const char* xp, char* op, i64 nOut, i64 nInner, int code) {
    __shared__ T scratch[32];
    int kind = code == R_MAX ? 1 : code == R_MIN ? 2 : 0;
    T identity = kind == 1 ? -ld_inf<T>() : kind == 2 ? ld_inf<T>() : (T) 0;
    for (i64 r = blockIdx.x; r < nOut; r += gridDim.x) {
        i64 base = elem_offset(outer, r);
        T acc = identity;
        for (i64 j = threadIdx.x; j < nInner; j += blockDim.x) {
            T v = load<T>(xp, base + elem_offset(inner, j), inner.dtype);
            if (kind == 1) acc = ld_max(acc, v);
            else if (kind == 2) acc = ld_min(acc, v);
            else acc += code == R_SUM_SQUARES ? v * v : v;
        }
        acc = block_reduce<T>(acc, kind, scratch);
        if (threadIdx.x == 0) {
            store<T>(op, elem_offset(o, r), o.dtype, code == R_MEAN ? acc / (T) nInner : acc);
        }
        __syncthreads();
    }
}

extern "C" __global__ void reduce_f32(Layout outer, Layout inner, Layout o, const char* xp, char* op, i64 nOut,
                                      i64 nInner, int code) {
    reduce_impl<float>(outer, inner, o, xp, op, nOut, nInner, code);
}

extern "C" __global__ void reduce_f64(Layout outer, Layout inner, Layout o, const char* xp, char* op, i64 nOut,
                                      i64 nInner, int code) {
    reduce_impl<double>(outer, inner, o, xp, op, nOut, nInner, code);
}
