// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11), the same formula as the CPU backend so
// that one seed gives the same noise on every device (design.md, "Determinism").
//   number n of stream `seed` (n = offset + row-major element index):
//     block = philox4x32_10(counter = (lo(n / 4), hi(n / 4), 0, 0), key = (lo(seed), hi(seed)))
//     uniform(n) = (block[n % 4] >> 8) · 2⁻²⁴                    in [0, 1), exact in float
//   normal n uses block (lo(n / 2), hi(n / 2), 0, 1) ... (see normal_at): Box–Muller on its first/last pair:
//     u1 = 1 − (w[2(n%2)] >> 8)·2⁻²⁴ ∈ (0, 1],  u2 = (w[2(n%2)+1] >> 8)·2⁻²⁴,  z = √(−2 ln u1) · cos(2π u2)
#include "loraid_common.cuh"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

struct U4 { u32 x, y, z, w; };

__device__ __forceinline__ U4 philox4x32_10(U4 c, u32 k0, u32 k1) {
    for (int round = 0; round < 10; round++) {
        u32 hi0 = __umulhi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
        u32 hi1 = __umulhi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
        U4 n = {hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0};
        c = n;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    return c;
}

__device__ __forceinline__ u32 lane(U4 v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

__device__ __forceinline__ float to_unit(u32 bits) { return (float) (bits >> 8) * (1.0f / 16777216.0f); }

__device__ float uniform_at(u64 seed, u64 n) {
    u64 c = n >> 2;
    U4 ctr = {(u32) c, (u32) (c >> 32), 0u, 0u};
    return to_unit(lane(philox4x32_10(ctr, (u32) seed, (u32) (seed >> 32)), (int) (n & 3)));
}

__device__ double normal_at(u64 seed, u64 n) {
    u64 c = n >> 1;
    U4 ctr = {(u32) c, (u32) (c >> 32), 0u, 1u};
    U4 w = philox4x32_10(ctr, (u32) seed, (u32) (seed >> 32));
    int p = (int) (n & 1) * 2;
    double u1 = 1.0 - (double) to_unit(lane(w, p));
    double u2 = (double) to_unit(lane(w, p + 1));
    return sqrt(-2.0 * log(u1)) * cospi(2.0 * u2);
}

extern "C" __global__ void random_uniform(Layout dst, char* dp, i64 n, u64 seed, u64 offset) {
    for (i64 i = blockIdx.x * (i64) blockDim.x + threadIdx.x; i < n; i += (i64) gridDim.x * blockDim.x) {
        store<float>(dp, elem_offset(dst, i), dst.dtype, uniform_at(seed, offset + (u64) i));
    }
}

extern "C" __global__ void random_normal(Layout dst, char* dp, i64 n, u64 seed, u64 offset) {
    for (i64 i = blockIdx.x * (i64) blockDim.x + threadIdx.x; i < n; i += (i64) gridDim.x * blockDim.x) {
        store<double>(dp, elem_offset(dst, i), dst.dtype, normal_at(seed, offset + (u64) i));
    }
}
