// Warp-level tensor-core helpers shared by the flash-attention kernels (attention_mma*.cu, attention_flash*.cu): the m16n8k16 MMA with
// fp32 accumulation on BF16 or F16 operands, operand packing, and the gather of [rows, D] tiles into shared memory.
// Fragment layouts: PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type" (g = lane / 4,
// t = lane % 4): A a0 = (g, 2t..2t+1), a1 = (g+8, 2t..), a2 = (g, 2t+8..), a3 = (g+8, 2t+8..); B b0 = (k 2t..2t+1,
// n g), b1 = (k 2t+8.., n g); C c0,c1 = (g, 2t..2t+1), c2,c3 = (g+8, 2t..2t+1).
#pragma once
#include "loraid_common.cuh"

#define MMA_PAD 8

template <bool BF16> __device__ __forceinline__ void mma16816(float (&c)[4], const u32 (&a)[4], u32 b0, u32 b1) {
    if (BF16) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
}

template <bool BF16> __device__ __forceinline__ u16 half_bits(float f) { return BF16 ? float_to_bf16(f) : float_to_f16(f); }

// Two values as one 32-bit operand register: lo in the low half (the lower k index).
template <bool BF16> __device__ __forceinline__ u32 pack2(float lo, float hi) {
    return (u32) half_bits<BF16>(lo) | ((u32) half_bits<BF16>(hi) << 16);
}

__device__ __forceinline__ u32 ld32(const u16* p) { return *(const u32*) p; }

// Rows [row0, row0 + rows) of (b, h) of a [B, H, L, D] view into shared memory as 16-bit MMA operands, zero past
// `limit`: row-major into s[rows][D + MMA_PAD] and/or transposed into st[D][rows + MMA_PAD] (either may be null;
// the transposed copy makes the B operand of a product over the rows one 32-bit load). When the view's rows are
// unit-stride, 16-byte aligned and already in the MMA's type (the models' [B, L, H, D] layout), 8 elements move per
// global load; any other view is gathered element by element and converted.
template <bool BF16> __device__ void gather_tile(u16* s, u16* st, const Layout& L, const char* p, i64 b, i64 h,
                                                 i64 row0, int rows, i64 limit) {
    int D = (int) L.sizes[3];
    int want = BF16 ? DT_BF16 : DT_F16;
    const u16* base = (const u16*) p + off4(L, b, h, row0, 0);
    bool vec = L.dtype == want && L.strides[3] == 1 && (L.strides[2] & 7) == 0 && ((u64) base & 15) == 0;
    if (vec) {
        int perRow = D / 8;
        for (int e = threadIdx.x; e < rows * perRow; e += blockDim.x) {
            int i = e / perRow, c = (e % perRow) * 8;
            uint4 v = make_uint4(0, 0, 0, 0);
            if (row0 + i < limit) v = *(const uint4*) (base + (i64) i * L.strides[2] + c);
            if (s) *(uint4*) (s + i * (D + MMA_PAD) + c) = v;   // 16-byte aligned: D + MMA_PAD and c are multiples of 8
            if (st) {
                u32 w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
                for (int j = 0; j < 8; j++) st[(c + j) * (rows + MMA_PAD) + i] = (u16) (w[j >> 1] >> (16 * (j & 1)));
            }
        }
        return;
    }
    for (int e = threadIdx.x; e < rows * D; e += blockDim.x) {
        int i = e / D, d = e % D;
        i64 row = row0 + i;
        u16 v = 0;
        if (row < limit) {
            i64 off = off4(L, b, h, row, d);
            v = L.dtype == want ? ((const u16*) p)[off] : half_bits<BF16>(load<float>(p, off, L.dtype));
        }
        if (s) s[i * (D + MMA_PAD) + d] = v;
        if (st) st[d * (rows + MMA_PAD) + i] = v;
    }
}

// ---- shared-memory operand loads and asynchronous copies (sm_80+): PTX ISA "ldmatrix", "cp.async" ----

// The shared-state-space address of a generic pointer into shared memory (what ldmatrix and cp.async take).
__device__ __forceinline__ u32 smem_addr(const void* p) {
    u32 a;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
    return a;
}

// Four 8x8 b16 matrices; lanes 8i..8i+7 give the row addresses (16 bytes each, 16-byte aligned) of matrix i, and
// every lane receives r[i] = matrix i's (row lane / 4, columns 2 (lane % 4), +1).
__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr) : "memory");
}

// As ldmatrix_x4, each matrix transposed: r[i] = matrix i's (rows 2 (lane % 4), +1; column lane / 4).
__device__ __forceinline__ void ldmatrix_x4_trans(u32 (&r)[4], u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr) : "memory");
}

// 16 bytes global → shared, bypassing L1; with valid false nothing is read and the destination is zero-filled
// (src must still be a mapped address: pass the tile's first row).
__device__ __forceinline__ void cp_async16(u32 dst, const void* src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(dst), "l"(src), "r"(valid ? 16 : 0) : "memory");
}

// Closes the group of this thread's cp.async issued since the last commit (an empty group is allowed).
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }

// Waits until at most N of this thread's committed groups are pending; other threads' copies need a barrier after.
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" :: "n"(N) : "memory"); }

// pack2 in one instruction (cvt.rn.{bf16,f16}x2.f32, sm_80+): the same round-to-nearest-even, NaN canonical.
template <bool BF16> __device__ __forceinline__ u32 pack2_rn(float lo, float hi) {
    u32 r;
    if (BF16) asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    else asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}
