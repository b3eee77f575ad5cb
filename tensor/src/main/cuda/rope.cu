// Rotary embedding on channel pairs (2j, 2j+1) as (real, imag) (spec wan.md §2.8). x and out [..., L, H, D];
// cos/sin contiguous [L, D/2] in T. One thread per pair; `inverse` rotates by the negated angle.
#include "loraid_vec.cuh"

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

// Contiguous x and out (F32/BF16/F16), D a multiple of 8, fp32 tables: 8 elements (4 pairs) a thread with
// 16-byte accesses (loraid_vec.cuh); the host checks alignment.
extern "C" __global__ void rope_vec(const char* xp, int xdt, char* op, int odt, const float* cosp, const float* sinp,
                                    i64 n, int D, int H, i64 L, int inverse) {
    int half = D / 2;
    VEC_GROUPS(e, n) {
        float v[VEC];
        load8(v, xp, xdt, VM_FULL, e, 0);
        i64 token, d0, l, unused;
        divmod(e, D, token, d0);           // token = (…, l, h) flattened
        divmod(token / H, L, unused, l);
        i64 t = l * half + d0 / 2;
        float4 c = *(const float4*) (cosp + t);
        float4 s = *(const float4*) (sinp + t);
        float cs[4] = {c.x, c.y, c.z, c.w};
        float sn[4] = {s.x, s.y, s.z, s.w};
#pragma unroll
        for (int p = 0; p < 4; p++) {
            float si = inverse ? -sn[p] : sn[p];
            float re = v[2 * p], im = v[2 * p + 1];
            v[2 * p] = re * cs[p] - im * si;
            v[2 * p + 1] = re * si + im * cs[p];
        }
        store8(op, odt, e, v);
    }
}
