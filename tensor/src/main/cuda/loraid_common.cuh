// Shared by every loraid kernel. Compiled by NVRTC at run time (no CUDA include tree there, so no system
// headers: only builtins) and by `nvcc -ptx` in the test suite.
#pragma once

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define LD_MAX_DIMS 8
#define LD_INF __int_as_float(0x7f800000)
#define LD_NAN __int_as_float(0x7fc00000)

// Element type codes: the order of dev.loraid.tensor.DType (checked by CudaSourcesTest).
enum DTypeCode { DT_F64, DT_F32, DT_F16, DT_BF16, DT_F8_E4M3, DT_F8_E5M2, DT_I64, DT_I32, DT_I16, DT_I8, DT_U8, DT_BOOL };

// A strided view: sizes and strides in elements, as in dev.loraid.tensor.Tensor (offset already applied to the
// pointer). Packed by CudaLayout on the Java side: 8 sizes, 8 strides, rank, dtype = 136 bytes.
struct Layout {
    i64 sizes[LD_MAX_DIMS];
    i64 strides[LD_MAX_DIMS];
    int rank;
    int dtype;
};

// linear / s and linear % s, in 32-bit arithmetic when both fit (64-bit division is a long software sequence).
__device__ __forceinline__ void divmod(i64 linear, i64 s, i64& q, i64& r) {
    if ((((u64) linear) | ((u64) s)) >> 32 == 0) {
        u32 q32 = (u32) linear / (u32) s;
        q = q32;
        r = (i64) ((u32) linear - q32 * (u32) s);
    } else {
        q = linear / s;
        r = linear - q * s;
    }
}

// Element offset of row-major index `linear` (< the layout's element count) over L's sizes.
__device__ __forceinline__ i64 elem_offset(const Layout& L, i64 linear) {
    if (L.rank == 1) return linear * L.strides[0];   // every contiguous operand, once dimensions are merged
    i64 off = 0;
    for (int d = L.rank - 1; d >= 0; d--) {
        i64 q, r;
        divmod(linear, L.sizes[d], q, r);
        off += r * L.strides[d];
        linear = q;
    }
    return off;
}

// Offset of the first element of row `row`, rows being all dimensions but the last.
__device__ __forceinline__ i64 row_offset(const Layout& L, i64 row) {
    i64 off = 0;
    for (int d = L.rank - 2; d >= 0; d--) {
        i64 q, r;
        divmod(row, L.sizes[d], q, r);
        off += r * L.strides[d];
        row = q;
    }
    return off;
}

// Offset of element (b, h, l, d) of a rank-4 [B, H, L, D] view (attention operands).
__device__ __forceinline__ i64 off4(const Layout& L, i64 b, i64 h, i64 l, i64 d) {
    return b * L.strides[0] + h * L.strides[1] + l * L.strides[2] + d * L.strides[3];
}

// ---- narrow float formats, bit-exact with dev.loraid.tensor.MiniFloats ----

__device__ __forceinline__ float bf16_to_float(u16 b) { return __uint_as_float(((u32) b) << 16); }

__device__ __forceinline__ u16 float_to_bf16(float f) {
    u32 bits = __float_as_uint(f);
    if (f != f) return (u16) ((bits >> 16) | 0x0040);
    u32 bias = 0x7FFFu + ((bits >> 16) & 1u);
    return (u16) ((bits + bias) >> 16);
}

__device__ __forceinline__ float f16_to_float(u16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ u16 float_to_f16(float f) {
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

__device__ float fp8_decode(u32 b, int eb, int mb, int bias, bool ieee) {
    int sign = (b >> (eb + mb)) & 1;
    int exp = (b >> mb) & ((1 << eb) - 1);
    int man = b & ((1 << mb) - 1);
    int maxExp = (1 << eb) - 1;
    float v;
    if (ieee && exp == maxExp) v = man == 0 ? LD_INF : LD_NAN;
    else if (!ieee && exp == maxExp && man == (1 << mb) - 1) v = LD_NAN;
    else if (exp == 0) v = ldexpf((float) man, 1 - bias - mb);
    else v = ldexpf(1.0f + man / (float) (1 << mb), exp - bias);
    return sign ? -v : v;
}

// Rounds d to nearest-even in a sign/exponent/mantissa format, once, from the double (MiniFloats.encode):
// IEEE-like formats overflow to infinity; E4M3fn ("finite only") saturates to its largest finite value.
__device__ u32 encode_rne(double d, int eb, int mb, bool finiteOnly) {
    u32 signBit = (u32) (__double_as_longlong(d) >> 63 & 1) << (eb + mb);
    int bias = (1 << (eb - 1)) - 1;
    int maxExp = (1 << eb) - 1;
    int nanCode = finiteOnly ? (maxExp << mb) | ((1 << mb) - 1) : (maxExp << mb) | (1 << (mb - 1));
    int maxFinite = finiteOnly ? nanCode - 1 : ((maxExp - 1) << mb) | ((1 << mb) - 1);
    if (d != d) return signBit | (u32) nanCode;
    double a = fabs(d);
    i64 code;
    if (a > 1.7976931348623157e308) code = 0x7fffffffffffffffLL;
    else if (a == 0) code = 0;
    else {
        int e = ilogb(a);
        if (e < 1 - bias) {
            code = (i64) rint(ldexp(a, mb - (1 - bias)));
        } else {
            code = ((i64) (e + bias) << mb) + (i64) rint(ldexp(a, mb - e)) - (1LL << mb);
        }
    }
    if (code > maxFinite) code = finiteOnly ? maxFinite : (i64) maxExp << mb;
    return signBit | (u32) code;
}

// float → narrow: a float is exact in double, so one rounding either way.
__device__ __forceinline__ u16 to_bf16(float f) { return float_to_bf16(f); }
__device__ __forceinline__ u16 to_f16(float f) { return float_to_f16(f); }
// double → narrow: rounded once from the double (DType.write), not through float.
__device__ __forceinline__ u16 to_bf16(double d) {
    float f = (float) d;
    return (f == d || d != d) ? float_to_bf16(f) : (u16) encode_rne(d, 8, 7, false);
}
__device__ __forceinline__ u16 to_f16(double d) {
    float f = (float) d;
    return (f == d || d != d) ? float_to_f16(f) : (u16) encode_rne(d, 5, 10, false);
}
__device__ __forceinline__ u8 to_e4m3(double d) { return (u8) encode_rne(d, 4, 3, true); }
__device__ __forceinline__ u8 to_e5m2(double d) { return (u8) encode_rne(d, 5, 2, false); }

// ---- typed element access: math runs in T (float, or double when every tensor is F64) ----

template <typename T>
__device__ __forceinline__ T load(const char* p, i64 i, int dt) {
    switch (dt) {
        case DT_F64: return (T) ((const double*) p)[i];
        case DT_F32: return (T) ((const float*) p)[i];
        case DT_F16: return (T) f16_to_float(((const u16*) p)[i]);
        case DT_BF16: return (T) bf16_to_float(((const u16*) p)[i]);
        case DT_F8_E4M3: return (T) fp8_decode(((const u8*) p)[i], 4, 3, 7, false);
        case DT_F8_E5M2: return (T) fp8_decode(((const u8*) p)[i], 5, 2, 15, true);
        case DT_I64: return (T) ((const i64*) p)[i];
        case DT_I32: return (T) ((const int*) p)[i];
        case DT_I16: return (T) ((const short*) p)[i];
        case DT_I8: return (T) ((const signed char*) p)[i];
        case DT_U8: return (T) ((const u8*) p)[i];
        default: return (T) (((const u8*) p)[i] != 0 ? 1 : 0);
    }
}

// Stores v, rounding once to nearest-even (as DType.write does on the CPU).
template <typename T>
__device__ __forceinline__ void store(char* p, i64 i, int dt, T v) {
    switch (dt) {
        case DT_F64: ((double*) p)[i] = (double) v; break;
        case DT_F32: ((float*) p)[i] = (float) v; break;
        case DT_F16: ((u16*) p)[i] = to_f16(v); break;
        case DT_BF16: ((u16*) p)[i] = to_bf16(v); break;
        case DT_F8_E4M3: ((u8*) p)[i] = to_e4m3((double) v); break;
        case DT_F8_E5M2: ((u8*) p)[i] = to_e5m2((double) v); break;
        case DT_I64: ((i64*) p)[i] = (i64) v; break;
        case DT_I32: ((int*) p)[i] = (int) v; break;
        case DT_I16: ((short*) p)[i] = (short) v; break;
        case DT_I8: ((signed char*) p)[i] = (signed char) (i64) v; break;
        case DT_U8: ((u8*) p)[i] = (u8) (i64) v; break;
        default: ((u8*) p)[i] = v != (T) 0 ? 1 : 0; break;
    }
}

__device__ __forceinline__ bool is_int_type(int dt) { return dt >= DT_I64; }

__device__ __forceinline__ i64 load_int(const char* p, i64 i, int dt) {
    switch (dt) {
        case DT_I64: return ((const i64*) p)[i];
        case DT_I32: return ((const int*) p)[i];
        case DT_I16: return ((const short*) p)[i];
        case DT_I8: return ((const signed char*) p)[i];
        case DT_U8: return ((const u8*) p)[i];
        case DT_BOOL: return ((const u8*) p)[i] != 0;
        default: return (i64) load<double>(p, i, dt);
    }
}

__device__ __forceinline__ void store_int(char* p, i64 i, int dt, i64 v) {
    if (dt == DT_I64) ((i64*) p)[i] = v;
    else store<double>(p, i, dt, (double) v);
}

// ---- math in T ----

__device__ __forceinline__ float ld_exp(float x) { return expf(x); }
__device__ __forceinline__ double ld_exp(double x) { return exp(x); }
__device__ __forceinline__ float ld_log(float x) { return logf(x); }
__device__ __forceinline__ double ld_log(double x) { return log(x); }
__device__ __forceinline__ float ld_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double ld_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float ld_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double ld_tanh(double x) { return tanh(x); }
template <typename T> __device__ __forceinline__ T ld_inf() { return (T) LD_INF; }

// Java's Math.max/min: NaN if either is NaN.
template <typename T> __device__ __forceinline__ T ld_max(T a, T b) { return (a != a || b != b) ? (T) LD_NAN : (a > b ? a : b); }
template <typename T> __device__ __forceinline__ T ld_min(T a, T b) { return (a != a || b != b) ? (T) LD_NAN : (a < b ? a : b); }

// ---- block-wide reductions (blockDim.x a multiple of 32, at most 1024) ----

template <typename T> __device__ __forceinline__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <typename T> __device__ __forceinline__ T warp_max(T v) {
    for (int o = 16; o > 0; o >>= 1) v = ld_max(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

template <typename T> __device__ __forceinline__ T warp_min(T v) {
    for (int o = 16; o > 0; o >>= 1) v = ld_min(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// kind: 0 sum, 1 max, 2 min. `scratch` holds 32 T. The result is returned to every thread.
template <typename T> __device__ T block_reduce(T v, int kind, T* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = kind == 0 ? warp_sum(v) : kind == 1 ? warp_max(v) : warp_min(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        T identity = kind == 0 ? (T) 0 : kind == 1 ? -ld_inf<T>() : ld_inf<T>();
        T w = lane < warps ? scratch[lane] : identity;
        w = kind == 0 ? warp_sum(w) : kind == 1 ? warp_max(w) : warp_min(w);
        if (lane == 0) scratch[0] = w;
    }
    __syncthreads();
    return scratch[0];
}
