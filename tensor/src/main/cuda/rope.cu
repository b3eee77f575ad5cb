// Rotary embedding on channel pairs (2j, 2j+1) as (real, imag) (spec wan.md §2.8). x and out [..., L, H, D];
// cos/sin contiguous [L, D/2] in T. One thread per pair; `inverse` rotates by the negated angle.
#include "loraid_common.cuh"

template <typename T> __device__ void rope_impl(const Layout& x, const Layout& o, const char* xp, char* op,
        const T* cosp, const T* sinp, i64 pairs, int inverse) {
    int r = x.rank;
    i64 D = x.sizes[r - 1], H = x.sizes[r - 2], L = x.sizes[r - 3], half = D / 2;
    for (i64 p = blockIdx.x * (i64) blockDim.x + threadIdx.x; p < pairs; p += (i64) gridDim.x * blockDim.x) {
        i64 e = 2 * p;
        i64 j = (e % D) / 2;
        i64 l = (e / (D * H)) % L;
        T c = cosp[l * half + j], s = sinp[l * half + j];
        if (inverse) s = -s;
        i64 xo = elem_offset(x, e), oo = elem_offset(o, e);
        T re = load<T>(xp, xo, x.dtype), im = load<T>(xp, xo + x.strides[r - 1], x.dtype);
        store<T>(op, oo, o.dtype, re * c - im * s);
        store<T>(op, oo + o.strides[r - 1], o.dtype, re * s + im * c);
    }
}

extern "C" __global__ void rope_f32(Layout x, Layout o, const char* xp, char* op, const float* cosp, const float* sinp,
                                    i64 pairs, int inverse) { rope_impl<float>(x, o, xp, op, cosp, sinp, pairs, inverse); }
extern "C" __global__ void rope_f64(Layout x, Layout o, const char* xp, char* op, const double* cosp, const double* sinp,
                                    i64 pairs, int inverse) { rope_impl<double>(x, o, xp, op, cosp, sinp, pairs, inverse); }
