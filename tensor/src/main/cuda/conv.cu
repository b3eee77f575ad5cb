// The 3-D convolution's implicit GEMM (dev.loraid.tensor.ConvGeometry; CudaConv launches these and runs the GEMMs on
// cuBLASLt): one tile of flattened output rows [r0, r0 + P / Wo) of sample n at a time.
//   conv_pack:    im2col of the tile, cols [K, P] contiguous (element (k, p) at k·P + p), any x strides and dtype,
//                 padding positions 0; written in cols' dtype (F32/F64, or BF16/F16 when x is that dtype: exact).
//   conv_scatter: col2im, the backward's dCols [K, P] (contiguous, T) added into acc [I, T, H, W] (contiguous, T,
//                 zeroed by the caller) at the input element each patch value was read from; padding dropped.
// Patch row k = ((i·kt + dt)·kh + dh)·kw + dw (the weight's order), column p = r·Wo + w of output row r0 + r.
#include "loraid_common.cuh"

// The call's sizes, as ConvGeometry holds them; packed by CudaConv.pack (16 ints, checked by CudaConvTest).
struct ConvGeom {
    int I, T, H, W;
    int kt, kh, kw;
    int st, sh, sw;
    int front, top, left;
    int To, Ho, Wo;
};

// Decodes tile element e = k·P + p into the input position it reads; false when that position is padding. Also a
// host function: tensor/src/test/cuda/conv_index_check.cu runs it on the CPU against a direct convolution.
__host__ __device__ __forceinline__ bool conv_source(const ConvGeom& g, i64 e, i64 P, i64 r0, int& i, int& ti, int& hi,
                                            int& wi) {
    i64 k = e / P, p = e - k * P;
    i64 r = p / g.Wo;
    int w = (int) (p - r * g.Wo);
    i64 row = r0 + r;
    int t = (int) (row / g.Ho), h = (int) (row - (i64) t * g.Ho);
    int taps = g.kt * g.kh * g.kw;
    i = (int) (k / taps);
    int rem = (int) (k - (i64) i * taps);
    int dt = rem / (g.kh * g.kw), dh = rem / g.kw % g.kh, dw = rem % g.kw;
    ti = t * g.st + dt - g.front;
    hi = h * g.sh + dh - g.top;
    wi = w * g.sw + dw - g.left;
    return ti >= 0 && ti < g.T && hi >= 0 && hi < g.H && wi >= 0 && wi < g.W;
}

template <typename T> __device__ void conv_pack_impl(Layout x, const char* xp, ConvGeom g, i64 n, i64 r0, i64 P,
                                                     char* cols, int colsDtype) {
    i64 total = (i64) g.I * g.kt * g.kh * g.kw * P;
    for (i64 e = blockIdx.x * (i64) blockDim.x + threadIdx.x; e < total; e += (i64) gridDim.x * blockDim.x) {
        int i, ti, hi, wi;
        T v = 0;
        if (conv_source(g, e, P, r0, i, ti, hi, wi)) {
            v = load<T>(xp, n * x.strides[0] + i * x.strides[1] + ti * x.strides[2] + hi * x.strides[3]
                + wi * x.strides[4], x.dtype);
        }
        store<T>(cols, e, colsDtype, v);
    }
}

template <typename T> __device__ void conv_scatter_impl(const T* dCols, ConvGeom g, i64 r0, i64 P, T* acc) {
    i64 total = (i64) g.I * g.kt * g.kh * g.kw * P;
    for (i64 e = blockIdx.x * (i64) blockDim.x + threadIdx.x; e < total; e += (i64) gridDim.x * blockDim.x) {
        int i, ti, hi, wi;
        if (conv_source(g, e, P, r0, i, ti, hi, wi)) {
            // overlapping windows add into one input element: atomics (fp64 atomicAdd: sm_60 and newer)
            atomicAdd(acc + (((i64) i * g.T + ti) * g.H + hi) * g.W + wi, dCols[e]);
        }
    }
}

#define CONV_KERNELS(T, SUFFIX) \
extern "C" __global__ void conv_pack_##SUFFIX(Layout x, const char* xp, ConvGeom g, i64 n, i64 r0, i64 P, char* cols, \
        int colsDtype) { conv_pack_impl<T>(x, xp, g, n, r0, P, cols, colsDtype); } \
extern "C" __global__ void conv_scatter_##SUFFIX(const T* dCols, ConvGeom g, i64 r0, i64 P, T* acc) { \
    conv_scatter_impl<T>(dCols, g, r0, P, acc); }

CONV_KERNELS(float, f32)
CONV_KERNELS(double, f64)
