// LayerNorm and RMSNorm over the last dimension, forward and backward. One block per row for the row-wise
// parts; the weight/bias gradients are column sums over rows (norm_param_grads) accumulated atomically into a
// zeroed T buffer that the Java side casts into dWeight/dBias. mean/rstd are contiguous [rows] F32 (or null).
#include "loraid_common.cuh"

#define VEC_AT(L, p, j) load<T>(p, (j) * L.strides[0], L.dtype)

template <typename T> __device__ void layer_norm_impl(const Layout& x, const Layout& w, const Layout& b, const Layout& o,
        const char* xp, const char* wp, const char* bp, char* op, float* meanOut, float* rstdOut, i64 rows,
        double eps, int rms) {
    __shared__ T scratch[32];
    i64 D = x.sizes[x.rank - 1], xs = x.strides[x.rank - 1], os = o.strides[o.rank - 1];
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        i64 xb = row_offset(x, r), ob = row_offset(o, r);
        T mean = 0;
        if (!rms) {
            T s = 0;
            for (i64 j = threadIdx.x; j < D; j += blockDim.x) s += load<T>(xp, xb + j * xs, x.dtype);
            mean = block_reduce<T>(s, 0, scratch) / (T) D;
        }
        T s2 = 0;
        for (i64 j = threadIdx.x; j < D; j += blockDim.x) {
            T d = load<T>(xp, xb + j * xs, x.dtype) - mean;
            s2 += d * d;
        }
        T rstd = (T) 1 / ld_sqrt(block_reduce<T>(s2, 0, scratch) / (T) D + (T) eps);
        for (i64 j = threadIdx.x; j < D; j += blockDim.x) {
            T y = (load<T>(xp, xb + j * xs, x.dtype) - mean) * rstd;
            if (wp) y *= VEC_AT(w, wp, j);
            if (bp) y += VEC_AT(b, bp, j);
            store<T>(op, ob + j * os, o.dtype, y);
        }
        if (threadIdx.x == 0) {
            if (meanOut) meanOut[r] = (float) mean;
            if (rstdOut) rstdOut[r] = (float) rstd;
        }
    }
}

// g = dOut·w, x̂ = (x − mean)·rstd:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂))  (RMSNorm: no mean terms).
template <typename T> __device__ void layer_norm_backward_impl(const Layout& x, const Layout& w, const Layout& g,
        const Layout& dx, const char* xp, const char* wp, const float* meanIn, const float* rstdIn, const char* gp,
        char* dxp, i64 rows, int rms) {
    __shared__ T scratch[32];
    i64 D = x.sizes[x.rank - 1], xs = x.strides[x.rank - 1], gs = g.strides[g.rank - 1], ds = dx.strides[dx.rank - 1];
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        i64 xb = row_offset(x, r), gb = row_offset(g, r), db = row_offset(dx, r);
        T mean = rms ? (T) 0 : (T) meanIn[r];
        T rstd = (T) rstdIn[r];
        T sumG = 0, sumGX = 0;
        for (i64 j = threadIdx.x; j < D; j += blockDim.x) {
            T gv = load<T>(gp, gb + j * gs, g.dtype) * (wp ? VEC_AT(w, wp, j) : (T) 1);
            T xh = (load<T>(xp, xb + j * xs, x.dtype) - mean) * rstd;
            sumG += gv;
            sumGX += gv * xh;
        }
        T meanG = rms ? (T) 0 : block_reduce<T>(sumG, 0, scratch) / (T) D;
        T meanGX = block_reduce<T>(sumGX, 0, scratch) / (T) D;
        for (i64 j = threadIdx.x; j < D; j += blockDim.x) {
            T gv = load<T>(gp, gb + j * gs, g.dtype) * (wp ? VEC_AT(w, wp, j) : (T) 1);
            T xh = (load<T>(xp, xb + j * xs, x.dtype) - mean) * rstd;
            store<T>(dxp, db + j * ds, dx.dtype, rstd * (gv - meanG - xh * meanGX));
        }
    }
}

// accW[c] += Σ_r dOut[r,c]·x̂[r,c];  accB[c] += Σ_r dOut[r,c]. Block (32, 8): 32 columns, 8 row lanes.
template <typename T> __device__ void norm_param_grads_impl(const Layout& x, const Layout& g, const char* xp,
        const char* gp, const float* meanIn, const float* rstdIn, T* accW, T* accB, i64 rows) {
    __shared__ T sw[8][33];
    __shared__ T sb[8][33];
    i64 D = x.sizes[x.rank - 1];
    i64 c = blockIdx.x * 32 + threadIdx.x;
    T pw = 0, pb = 0;
    if (c < D) {
        for (i64 r = blockIdx.y * 8 + threadIdx.y; r < rows; r += gridDim.y * 8) {
            T gv = load<T>(gp, row_offset(g, r) + c * g.strides[g.rank - 1], g.dtype);
            T mean = meanIn ? (T) meanIn[r] : (T) 0;
            T xh = (load<T>(xp, row_offset(x, r) + c * x.strides[x.rank - 1], x.dtype) - mean) * (T) rstdIn[r];
            pw += gv * xh;
            pb += gv;
        }
    }
    sw[threadIdx.y][threadIdx.x] = pw;
    sb[threadIdx.y][threadIdx.x] = pb;
    __syncthreads();
    if (threadIdx.y == 0 && c < D) {
        for (int k = 1; k < 8; k++) {
            pw += sw[k][threadIdx.x];
            pb += sb[k][threadIdx.x];
        }
        if (accW) atomicAdd(accW + c, pw);
        if (accB) atomicAdd(accB + c, pb);
    }
}

#define NORM_KERNELS(T, SUFFIX) \
extern "C" __global__ void layer_norm_##SUFFIX(Layout x, Layout w, Layout b, Layout o, const char* xp, const char* wp, \
        const char* bp, char* op, float* meanOut, float* rstdOut, i64 rows, double eps, int rms) { \
    layer_norm_impl<T>(x, w, b, o, xp, wp, bp, op, meanOut, rstdOut, rows, eps, rms); } \
extern "C" __global__ void layer_norm_backward_##SUFFIX(Layout x, Layout w, Layout g, Layout dx, const char* xp, \
        const char* wp, const float* meanIn, const float* rstdIn, const char* gp, char* dxp, i64 rows, int rms) { \
    layer_norm_backward_impl<T>(x, w, g, dx, xp, wp, meanIn, rstdIn, gp, dxp, rows, rms); } \
extern "C" __global__ void norm_param_grads_##SUFFIX(Layout x, Layout g, const char* xp, const char* gp, \
        const float* meanIn, const float* rstdIn, T* accW, T* accB, i64 rows) { \
    norm_param_grads_impl<T>(x, g, xp, gp, meanIn, rstdIn, accW, accB, rows); }

NORM_KERNELS(float, f32)
NORM_KERNELS(double, f64)
