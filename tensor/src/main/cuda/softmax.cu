// Softmax over the last dimension and its backward; one block per row (rows = all leading dimensions).
#include "loraid_common.cuh"

template <typename T> __device__ void softmax_impl(const Layout& x, const Layout& o, const char* xp, char* op, i64 rows) {
    __shared__ T scratch[32];
    i64 D = x.sizes[x.rank - 1], xs = x.strides[x.rank - 1], os = o.strides[o.rank - 1];
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        i64 xb = row_offset(x, r), ob = row_offset(o, r);
        T m = -ld_inf<T>();
        for (i64 j = threadIdx.x; j < D; j += blockDim.x) m = ld_max(m, load<T>(xp, xb + j * xs, x.dtype));
        m = block_reduce<T>(m, 1, scratch);
        T s = 0;
        for (i64 j = threadIdx.x; j < D; j += blockDim.x) s += ld_exp(load<T>(xp, xb + j * xs, x.dtype) - m);
        s = block_reduce<T>(s, 0, scratch);
        T inv = (T) 1 / s;
        for (i64 j = threadIdx.x; j < D; j += blockDim.x) {
            store<T>(op, ob + j * os, o.dtype, ld_exp(load<T>(xp, xb + j * xs, x.dtype) - m) * inv);
        }
    }
}

// dx = y · (dy − Σ dy·y)
template <typename T> __device__ void softmax_backward_impl(const Layout& y, const Layout& dy, const Layout& dx,
        const char* yp, const char* dyp, char* dxp, i64 rows) {
    __shared__ T scratch[32];
    i64 D = y.sizes[y.rank - 1];
    i64 ys = y.strides[y.rank - 1], gs = dy.strides[dy.rank - 1], xs = dx.strides[dx.rank - 1];
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
        i64 yb = row_offset(y, r), gb = row_offset(dy, r), xb = row_offset(dx, r);
        T dot = 0;
        for (i64 j = threadIdx.x; j < D; j += blockDim.x) {
            dot += load<T>(yp, yb + j * ys, y.dtype) * load<T>(dyp, gb + j * gs, dy.dtype);
        }
        dot = block_reduce<T>(dot, 0, scratch);
        for (i64 j = threadIdx.x; j < D; j += blockDim.x) {
            T yv = load<T>(yp, yb + j * ys, y.dtype);
            store<T>(dxp, xb + j * xs, dx.dtype, yv * (load<T>(dyp, gb + j * gs, dy.dtype) - dot));
        }
    }
}

extern "C" __global__ void softmax_f32(Layout x, Layout o, const char* xp, char* op, i64 rows) { softmax_impl<float>(x, o, xp, op, rows); }
extern "C" __global__ void softmax_f64(Layout x, Layout o, const char* xp, char* op, i64 rows) { softmax_impl<double>(x, o, xp, op, rows); }
extern "C" __global__ void softmax_backward_f32(Layout y, Layout dy, Layout dx, const char* yp, const char* dyp,
                                                char* dxp, i64 rows) { softmax_backward_impl<float>(y, dy, dx, yp, dyp, dxp, rows); }
extern "C" __global__ void softmax_backward_f64(Layout y, Layout dy, Layout dx, const char* yp, const char* dyp,
                                                char* dxp, i64 rows) { softmax_backward_impl<double>(y, dy, dx, yp, dyp, dxp, rows); }
