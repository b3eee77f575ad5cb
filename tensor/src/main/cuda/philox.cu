// Counter-based random numbers, the formula of the CPU backend (cpu/RandomFill, cpu/Philox) so that one seed
// gives the same noise on every device (design.md, "Determinism"). Number n = offset + row-major element index
// lives in Philox4x32-10 block n >> 2: counter (lo(n >> 2), hi(n >> 2), 0, 0), key (lo(seed), hi(seed)), words w0..w3.
//   uniform: (w[n & 3] >> 8) · 2^-24                         (exact in float)
//   normal:  a = w[n & 2], b = w[(n & 2) + 1], u1 = ((a >> 8) + 1) · 2^-24, u2 = (b >> 8) · 2^-24,
//            r = sqrt(-2 ln u1), θ = 2π u2; even n: r cos θ, odd n: r sin θ — in double, rounded once on store.
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

__device__ __forceinline__ U4 block_of(u64 seed, u64 n) {
    u64 c = n >> 2;
    U4 ctr = {(u32) c, (u32) (c >> 32), 0u, 0u};
    return philox4x32_10(ctr, (u32) seed, (u32) (seed >> 32));
}

__device__ float uniform_at(u64 seed, u64 n) {
    return to_unit(lane(block_of(seed, n), (int) (n & 3)));
}

__device__ double normal_at(u64 seed, u64 n) {
    U4 w = block_of(seed, n);
    int pair = (int) (n & 2);
    double u1 = (double) ((lane(w, pair) >> 8) + 1) * (1.0 / 16777216.0);
    double u2 = (double) (lane(w, pair + 1) >> 8) * (1.0 / 16777216.0);
    double r = sqrt(-2.0 * log(u1));
    double theta = 2.0 * 3.141592653589793 * u2;
    return (n & 1) == 0 ? r * cos(theta) : r * sin(theta);
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
