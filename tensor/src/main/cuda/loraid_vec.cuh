// Vectorized elementwise access: 8 consecutive elements per thread with 16-byte loads and stores, for the common
// case of a contiguous output whose operands are each contiguous (VM_FULL), one row vector repeated along the rows
// (VM_ROW: element e reads e % rowLen, e.g. a [C] modulation over [L, C]) or a single value (VM_SCALAR). The host
// (CudaBackend.elementwise) takes this path only when every 8-element group is 16-byte aligned in every operand,
// n and rowLen are multiples of 8, and math runs in fp32; anything else takes the strided kernels.
#pragma once
#include "loraid_common.cuh"

#define VEC 8

enum VecMode { VM_FULL, VM_ROW, VM_SCALAR };

__device__ __forceinline__ void unpack_halves(uint4 raw, bool bf16, float (&v)[VEC]) {
    u32 w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int j = 0; j < VEC; j++) {
        u16 h = (u16) (w[j >> 1] >> (16 * (j & 1)));
        v[j] = bf16 ? bf16_to_float(h) : f16_to_float(h);
    }
}

// Elements [e, e + 8) of an operand (as the mode says) as floats.
__device__ __forceinline__ void load8(float (&v)[VEC], const char* p, int dt, int mode, i64 e, i64 rowLen) {
    if (mode == VM_SCALAR) {
        float s = load<float>(p, 0, dt);
#pragma unroll
        for (int j = 0; j < VEC; j++) v[j] = s;
        return;
    }
    i64 o = mode == VM_ROW ? e % rowLen : e;
    if (dt == DT_BF16 || dt == DT_F16) {
        unpack_halves(*(const uint4*) ((const u16*) p + o), dt == DT_BF16, v);
    } else if (dt == DT_F32) {
        float4 a = *(const float4*) ((const float*) p + o);
        float4 b = *(const float4*) ((const float*) p + o + 4);
        v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
    } else {
#pragma unroll
        for (int j = 0; j < VEC; j++) v[j] = load<float>(p, o + j, dt);
    }
}

// Stores elements [e, e + 8) of a contiguous output, rounding each once to nearest-even.
__device__ __forceinline__ void store8(char* p, int dt, i64 e, const float (&v)[VEC]) {
    if (dt == DT_BF16 || dt == DT_F16) {
        u32 w[4];
#pragma unroll
        for (int j = 0; j < 4; j++) {
            u16 lo = dt == DT_BF16 ? float_to_bf16(v[2 * j]) : float_to_f16(v[2 * j]);
            u16 hi = dt == DT_BF16 ? float_to_bf16(v[2 * j + 1]) : float_to_f16(v[2 * j + 1]);
            w[j] = (u32) lo | ((u32) hi << 16);
        }
        *(uint4*) ((u16*) p + e) = make_uint4(w[0], w[1], w[2], w[3]);
    } else if (dt == DT_F32) {
        *(float4*) ((float*) p + e) = make_float4(v[0], v[1], v[2], v[3]);
        *(float4*) ((float*) p + e + 4) = make_float4(v[4], v[5], v[6], v[7]);
    } else {
#pragma unroll
        for (int j = 0; j < VEC; j++) store<float>(p, e + j, dt, v[j]);
    }
}

#define VEC_GROUPS(e, n) \
    for (i64 e = (blockIdx.x * (i64) blockDim.x + threadIdx.x) * VEC; e < (n); e += (i64) gridDim.x * blockDim.x * VEC)
