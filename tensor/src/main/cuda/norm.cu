// LayerNorm and RMSNorm over the last dimension, forward and backward. One block per row for the row-wise
// parts; the weight/bias gradients are column sums over rows (norm_param_grads) accumulated atomically into a
// zeroed T buffer that the Java side casts into dWeight/dBias. mean/rstd are contiguous [rows] F32 (or null).
// The _vec row kernels (fp32 math) keep a whole row in registers and move it with 16-byte accesses: one read of x
// (and dOut) instead of three, for rows of unit-stride elements whose starts are 16-byte aligned (CudaNorms).
#include "loraid_vec.cuh"

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

// ---- row kernels with the row in registers (launched with 256 threads: rows of up to 256 × 8 × 4 elements) ----

#define NORM_VEC_GROUPS 4

extern "C" __global__ void __launch_bounds__(256) layer_norm_vec(const char* xp, int xdt, i64 xs, const char* wp,
        int wdt, const char* bp, int bdt, char* op, int odt, i64 os, float* meanOut, float* rstdOut, i64 rows, int D,
        double eps, int rms) {
    __shared__ float scratch[32];
    int groups = D / VEC;
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        float v[NORM_VEC_GROUPS][VEC];
        float s = 0.f;
#pragma unroll
        for (int k = 0; k < NORM_VEC_GROUPS; k++) {
            int gi = threadIdx.x + k * blockDim.x;
            if (gi < groups) {
                load8(v[k], xp, xdt, VM_FULL, r * xs + (i64) gi * VEC, 0);
#pragma unroll
                for (int j = 0; j < VEC; j++) s += v[k][j];
            }
        }
        float mean = rms ? 0.f : block_reduce<float>(s, 0, scratch) / (float) D;
        float s2 = 0.f;
#pragma unroll
        for (int k = 0; k < NORM_VEC_GROUPS; k++) {
            if (threadIdx.x + k * blockDim.x < groups) {
#pragma unroll
                for (int j = 0; j < VEC; j++) {
                    float d = v[k][j] - mean;
                    s2 += d * d;
                }
            }
        }
        float rstd = 1.f / sqrtf(block_reduce<float>(s2, 0, scratch) / (float) D + (float) eps);
#pragma unroll
        for (int k = 0; k < NORM_VEC_GROUPS; k++) {
            int gi = threadIdx.x + k * blockDim.x;
            if (gi < groups) {
                float w[VEC], bb[VEC];
                if (wp) load8(w, wp, wdt, VM_FULL, (i64) gi * VEC, 0);
                if (bp) load8(bb, bp, bdt, VM_FULL, (i64) gi * VEC, 0);
#pragma unroll
                for (int j = 0; j < VEC; j++) {
                    float y = (v[k][j] - mean) * rstd;
                    if (wp) y *= w[j];
                    if (bp) y += bb[j];
                    v[k][j] = y;
                }
                store8(op, odt, r * os + (i64) gi * VEC, v[k]);
            }
        }
        if (threadIdx.x == 0) {
            if (meanOut) meanOut[r] = mean;
            if (rstdOut) rstdOut[r] = rstd;
        }
    }
}

// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dOut·w, as layer_norm_backward_impl.
extern "C" __global__ void __launch_bounds__(256) layer_norm_backward_vec(const char* xp, int xdt, i64 xs,
        const char* wp, int wdt, const float* meanIn, const float* rstdIn, const char* gp, int gdt, i64 gs, char* dxp,
        int dxdt, i64 ds, i64 rows, int D, int rms) {
    __shared__ float scratch[32];
    int groups = D / VEC;
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        float mean = rms ? 0.f : meanIn[r];
        float rstd = rstdIn[r];
        float xh[NORM_VEC_GROUPS][VEC], g[NORM_VEC_GROUPS][VEC];
        float sumG = 0.f, sumGX = 0.f;
#pragma unroll
        for (int k = 0; k < NORM_VEC_GROUPS; k++) {
            int gi = threadIdx.x + k * blockDim.x;
            if (gi < groups) {
                load8(xh[k], xp, xdt, VM_FULL, r * xs + (i64) gi * VEC, 0);
                load8(g[k], gp, gdt, VM_FULL, r * gs + (i64) gi * VEC, 0);
                float w[VEC];
                if (wp) load8(w, wp, wdt, VM_FULL, (i64) gi * VEC, 0);
#pragma unroll
                for (int j = 0; j < VEC; j++) {
                    if (wp) g[k][j] *= w[j];
                    xh[k][j] = (xh[k][j] - mean) * rstd;
                    sumG += g[k][j];
                    sumGX += g[k][j] * xh[k][j];
                }
            }
        }
        float meanG = rms ? 0.f : block_reduce<float>(sumG, 0, scratch) / (float) D;
        float meanGX = block_reduce<float>(sumGX, 0, scratch) / (float) D;
#pragma unroll
        for (int k = 0; k < NORM_VEC_GROUPS; k++) {
            int gi = threadIdx.x + k * blockDim.x;
            if (gi < groups) {
#pragma unroll
                for (int j = 0; j < VEC; j++) g[k][j] = rstd * (g[k][j] - meanG - xh[k][j] * meanGX);
                store8(dxp, dxdt, r * ds + (i64) gi * VEC, g[k]);
            }
        }
    }
}
