// FLASH attention backward: FlashAttention-2's backward on mma.sync.m16n8k16 (BF16/F16 operands, fp32 accumulation)
// with ldmatrix fragments and cp.async double buffering. Head dim HD = D = Dv is a template parameter (64, 128).
//
// Tiling: a block of 8 warps owns KT = 128 keys of one (batch, head); warp w owns keys 16w..16w+15 of the tile and
// keeps their dK, dV [16, HD] in registers for the whole walk over the query tiles (QT = 64 queries each):
//   Sᵀ = K_w·Qᵀ, dPᵀ = V_w·dOᵀ          [16 keys, 64 queries]; A from K/V rows (ldmatrix), B from Q/dO rows (ldmatrix)
//   Pᵀ = exp2(scale·log2e·Sᵀ − log2e·lse), dSᵀ = Pᵀ∘(dPᵀ − delta)   (registers; dSᵀ also to shared memory, once)
//   dV += Pᵀ·dO, dK += dSᵀ·Q            A = the Sᵀ/dPᵀ accumulators repacked, B from Q/dO rows with ldmatrix.trans
//   dQ[16 queries, HD/2] += dS·K        warp w: queries 16(w % 4).., dims (w / 4)·HD/2..; A = dSᵀ in shared memory
//                                       with ldmatrix.trans, B = K rows with ldmatrix.trans
// No transposed copy is ever built: each operand comes from its row-major tile, transposed by ldmatrix where needed.
// Rows are padded by 16 bytes (stride HD + 8 elements: 272 bytes for HD 128, 17 × 16), so the 8 row addresses of
// an ldmatrix matrix fall in 8 different 16-byte bank groups (conflict-free), and so do the dSᵀ stores.
//
// Pipeline: K and V are copied once (cp.async group 0). Query tile i+1's Q, dO (16-byte cp.async.cg, zero-filled
// past Lq), lse and delta (4-byte cp.async.ca) are issued into the other buffer at the top of step i, then the
// thread waits for all but that newest group (tile i) and the block meets at a barrier. A second barrier per step
// sits between the dSᵀ stores and the dQ product; it also proves every warp has finished reading buffer i's Q/dO
// (dK, dV products come before it), so the prefetch at the top of step i+1 may overwrite that buffer, and the
// barrier at the top of step i+1 orders step i's dQ reads of dSᵀ before step i+1's stores.
//
// dQ: FA2's atomics into the fp32 accumulation buffer rather than a second kernel over query tiles. The separate
// kernel would recompute Sᵀ and dPᵀ (+2 of 5 matmuls: 40% more tensor work, and a second pass over K, V, Q, dO);
// here each block step (128 keys × 64 queries, 10.5 MFLOP at HD 128) adds its 64 × HD dQ partial with 4,096
// red.global.add.v2.f32 (sm_90; two atomics per pair before), one per 2,560 FLOP, which L2 absorbs. 128 keys per
// block (not 64) halves that traffic and the Q/dO reloads per FLOP, as in FA2's hdim-128 backward.
//
// Shared memory (HD 128): K, V, 2 × Q, 2 × dO at (2·128 + 4·64) × 136 × 2 B = 139,264 B, dSᵀ 128 × 72 × 2 B =
// 18,432 B, lse and delta 2 × 2 × 64 × 4 B = 1,024 B: 158,720 B, one block (8 warps) per SM on sm_90.
// Masking: keys ≥ kvLen (per batch) and queries ≥ Lq give P = dS = 0; their K/V/Q/dO rows are zero-filled so no
// garbage reaches an MMA. A block whose keys are all masked (kvLen may be 0) writes zero dK, dV rows.
// delta = rowsum(dO∘O) comes from attention.cu's attention_backward_delta_f32; lse is natural-log fp32 [B, H, Lq].
#include "loraid_mma.cuh"

#define FB_KT 128
#define FB_QT 64
#define FB_THREADS 256
#define FB_LOG2E 1.4426950408889634f

// 4 bytes global → shared through L1; with valid false the destination is zero-filled.
__device__ __forceinline__ void cp_async4(u32 dst, const void* src, bool valid) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" :: "r"(dst), "l"(src), "r"(valid ? 4 : 0) : "memory");
}

// dst[0..1] += (a, b) in global memory: one vector reduction on sm_90, two scalar ones before.
__device__ __forceinline__ void red_add2(float* dst, float a, float b) {
#if __CUDA_ARCH__ >= 900
    asm volatile("red.global.add.v2.f32 [%0], {%1, %2};" :: "l"(dst), "f"(a), "f"(b) : "memory");
#else
    atomicAdd(dst, a);
    atomicAdd(dst + 1, b);
#endif
}

// Rows [row0, row0 + rows) of a tile (row stride `stride` elements, unit stride along HD) into s[rows][HD + 8] by
// 16-byte cp.async, rows at or past `limit` zero-filled. Thread x copies 16-byte column x % (HD / 8) of rows
// x / (HD / 8) + j · (threads / (HD / 8)): one pointer stepped per row keeps the live registers few.
template <int HD> __device__ __forceinline__ void copy_rows_async(u16* s, const u16* base, i64 stride, i64 row0,
                                                                  int rows, i64 limit) {
    constexpr int CHUNKS = HD / 8, RSTEP = FB_THREADS / CHUNKS;
    int r = threadIdx.x / CHUNKS, c = (threadIdx.x % CHUNKS) * 8;
    const u16* src = base + (row0 + r) * stride + c;
    u32 dst = smem_addr(s + r * (HD + 8) + c);
    i64 left = limit - row0 - r;                 // rows of this thread's column still inside the tensor
#pragma unroll
    for (int j = 0; j < rows / RSTEP; j++) {
        bool ok = j * RSTEP < left;
        cp_async16(dst, ok ? src : base, ok);
        src += RSTEP * stride;
        dst += RSTEP * (HD + 8) * 2;
    }
}

// Lane offsets (row, column) inside a 16 × 16 block for ldmatrix_x4. Pattern ROWS_FIRST: matrices 0..3 are
// (rows 0-7, cols 0-7), (rows 8-15, cols 0-7), (rows 0-7, cols 8-15), (rows 8-15, cols 8-15) — the A operand of a
// row-major [m][k] tile, and with .trans the B operand (two n-chunks) of a row-major [k][n] tile. Otherwise matrices
// are (0-7, 0-7), (0-7, 8-15), (8-15, 0-7), (8-15, 8-15) — the B operand (two n-chunks) of a row-major [n][k] tile,
// and with .trans the A operand of a row-major [k][m] tile.
template <bool ROWS_FIRST> __device__ __forceinline__ int lane_row(int lane) {
    return (lane & 7) + (ROWS_FIRST ? ((lane >> 3) & 1) : (lane >> 4)) * 8;
}
template <bool ROWS_FIRST> __device__ __forceinline__ int lane_col(int lane) {
    return (ROWS_FIRST ? (lane >> 4) : ((lane >> 3) & 1)) * 8;
}

template <int NC> __device__ __forceinline__ void zero(float (&acc)[NC][4]) {
#pragma unroll
    for (int c = 0; c < NC; c++) acc[c][0] = acc[c][1] = acc[c][2] = acc[c][3] = 0.f;
}

// acc[16 rows of sA, FB_QT columns] += A·Bᵀ over HD, A = sA's 16 rows [m][k], B rows = sB [n][k] (both padded).
template <bool BF16, int HD> __device__ __forceinline__ void mma_abt(float (&acc)[FB_QT / 8][4], u32 aRow, u32 bRow) {
#pragma unroll 1
    for (int kc = 0; kc < HD / 16; kc++) {
        u32 a[4];
        ldmatrix_x4(a, aRow + kc * 32);
#pragma unroll
        for (int np = 0; np < FB_QT / 16; np++) {
            u32 bf[4];
            ldmatrix_x4(bf, bRow + (np * 16 * (HD + 8) + kc * 16) * 2);
            mma16816<BF16>(acc[2 * np], a, bf[0], bf[1]);
            mma16816<BF16>(acc[2 * np + 1], a, bf[2], bf[3]);
        }
    }
}

// acc[16, HD] += A·B, A the [16, FB_QT] register tile given as C fragments c[FB_QT / 8], B = s [FB_QT][HD] rows
// (bRow: this lane's ldmatrix.trans address of the tile's block (0, 0), ROWS_FIRST pattern).
template <bool BF16, int HD> __device__ __forceinline__ void mma_c_b(float (&acc)[HD / 8][4],
                                                                     const float (&c)[FB_QT / 8][4], u32 bRow) {
#pragma unroll
    for (int kc = 0; kc < FB_QT / 16; kc++) {
        // the C fragments of column chunks 2kc, 2kc+1 are the A fragment of k = 16kc..16kc+15 (PTX mma.m16n8k16)
        u32 a[4] = {pack2_rn<BF16>(c[2 * kc][0], c[2 * kc][1]), pack2_rn<BF16>(c[2 * kc][2], c[2 * kc][3]),
                    pack2_rn<BF16>(c[2 * kc + 1][0], c[2 * kc + 1][1]), pack2_rn<BF16>(c[2 * kc + 1][2], c[2 * kc + 1][3])};
#pragma unroll
        for (int dp = 0; dp < HD / 16; dp++) {
            u32 bf[4];
            ldmatrix_x4_trans(bf, bRow + (kc * 16 * (HD + 8) + dp * 16) * 2);
            mma16816<BF16>(acc[2 * dp], a, bf[0], bf[1]);
            mma16816<BF16>(acc[2 * dp + 1], a, bf[2], bf[3]);
        }
    }
}

// dK or dV rows of this warp's keys into the caller's tensor: 2 elements per 32-bit store when it is in the
// kernel's type with unit stride along HD and 4-byte aligned rows, else element stores with conversion.
template <bool BF16, int HD> __device__ __forceinline__ void store_rows(const Layout& L, char* p, i64 b, i64 h,
        i64 key0, i64 Lk, const float (&acc)[HD / 8][4], float mul, int g, int t) {
    int want = BF16 ? DT_BF16 : DT_F16;
    bool pairs = L.dtype == want && L.strides[3] == 1 && ((L.strides[2] | L.strides[1] | L.strides[0]) & 1) == 0
                 && ((u64) p & 3) == 0;
#pragma unroll
    for (int half = 0; half < 2; half++) {
        i64 key = key0 + g + half * 8;
        if (key >= Lk) continue;
#pragma unroll
        for (int dc = 0; dc < HD / 8; dc++) {
            int d = dc * 8 + t * 2;
            float x = acc[dc][2 * half] * mul, y = acc[dc][2 * half + 1] * mul;
            i64 off = off4(L, b, h, key, d);
            if (pairs) {
                *(u32*) ((u16*) p + off) = pack2_rn<BF16>(x, y);
            } else {
                store<float>(p, off, L.dtype, x);
                store<float>(p, off4(L, b, h, key, d + 1), L.dtype, y);
            }
        }
    }
}

template <bool BF16, int HD> __device__ void attention_flash_backward_impl(const Layout& q, const Layout& k,
        const Layout& v, const Layout& go, const Layout& dk, const Layout& dv, const char* qp, const char* kp,
        const char* vp, const char* gp, char* dkp, char* dvp, const float* lse, const float* delta, float* dqAcc,
        const int* kvLengths, double scaleD) {
    constexpr int SD = HD + 8, SS = FB_QT + 8;
    extern __shared__ __align__(16) unsigned char smem[];
    int H = (int) q.sizes[1];
    i64 Lq = q.sizes[2], Lk = k.sizes[2];
    i64 b = blockIdx.y / H, h = blockIdx.y % H, n0 = (i64) blockIdx.x * FB_KT, bh = b * H + h;
    i64 kvLen = kvLengths ? max((i64) 0, min((i64) kvLengths[b], Lk)) : Lk;
    u16* sK = (u16*) smem;                       // K [keys][HD]
    u16* sV = sK + FB_KT * SD;                   // V [keys][HD]
    u16* sQ = sV + FB_KT * SD;                   // Q [2][queries][HD]
    u16* sG = sQ + 2 * FB_QT * SD;               // dO [2][queries][HD]
    u16* sS = sG + 2 * FB_QT * SD;               // dSᵀ [keys][queries]
    float* sL = (float*) (sS + FB_KT * SS);      // lse [2][queries]
    float* sDl = sL + 2 * FB_QT;                 // delta [2][queries]
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    float accK[HD / 8][4], accV[HD / 8][4];
    zero(accK);
    zero(accV);
    if (n0 < kvLen && Lq > 0) {
        const u16* qb = (const u16*) qp + b * q.strides[0] + h * q.strides[1];
        const u16* gb = (const u16*) gp + b * go.strides[0] + h * go.strides[1];
        copy_rows_async<HD>(sK, (const u16*) kp + b * k.strides[0] + h * k.strides[1], k.strides[2], n0, FB_KT, kvLen);
        copy_rows_async<HD>(sV, (const u16*) vp + b * v.strides[0] + h * v.strides[1], v.strides[2], n0, FB_KT, kvLen);
        cp_async_commit();
        // Issues query tile m0's Q, dO, lse, delta into buffer `buf`, as one commit group.
        auto prefetch = [&](i64 m0, int buf) {
            copy_rows_async<HD>(sQ + buf * FB_QT * SD, qb, q.strides[2], m0, FB_QT, Lq);
            copy_rows_async<HD>(sG + buf * FB_QT * SD, gb, go.strides[2], m0, FB_QT, Lq);
            if (threadIdx.x < 2 * FB_QT) {
                int i = threadIdx.x & (FB_QT - 1);
                bool ok = m0 + i < Lq;
                const float* src = (threadIdx.x < FB_QT ? lse : delta) + bh * Lq + (ok ? m0 + i : 0);
                cp_async4(smem_addr((threadIdx.x < FB_QT ? sL : sDl) + buf * FB_QT + i), src, ok);
            }
            cp_async_commit();
        };
        static_assert(FB_THREADS >= 2 * FB_QT, "one lse or delta element per thread");
        static_assert(FB_KT == 16 * (FB_THREADS / 32), "16 keys per warp");
        prefetch(0, 0);
        float sl2 = (float) (scaleD * 1.4426950408889634);
        int wk = warp * 16;                          // this warp's first key in the tile
        u32 kRowA = smem_addr(sK + (wk + lane_row<true>(lane)) * SD + lane_col<true>(lane));
        u32 vRowA = smem_addr(sV + (wk + lane_row<true>(lane)) * SD + lane_col<true>(lane));
        u32 kRowT = smem_addr(sK + lane_row<true>(lane) * SD + lane_col<true>(lane));   // K as B of dS·K (.trans)
        // dQ: warp w adds queries qw.. (16) × dims dw.. (DQ) of the tile, over all FB_KT keys
        constexpr int QG = FB_QT / 16, DQ = HD / (FB_THREADS / 32 / QG);
        static_assert(DQ % 16 == 0 && DQ * (FB_THREADS / 32 / QG) == HD, "dQ split of the warps");
        int qw = (warp % QG) * 16, dw = (warp / QG) * DQ;
        u32 sRowT = smem_addr(sS + lane_row<false>(lane) * SS + qw + lane_col<false>(lane)); // dS as A (.trans)
        i64 steps = (Lq + FB_QT - 1) / FB_QT;
        for (i64 step = 0; step < steps; step++) {
            int buf = (int) (step & 1);
            i64 m0 = step * FB_QT;
            if (step + 1 < steps) prefetch(m0 + FB_QT, buf ^ 1);
            else cp_async_commit();                  // an empty group keeps the wait count uniform
            cp_async_wait<1>();
            __syncthreads();
            const u16* q_ = sQ + buf * FB_QT * SD;
            const u16* g_ = sG + buf * FB_QT * SD;
            const float* l_ = sL + buf * FB_QT;
            const float* d_ = sDl + buf * FB_QT;
            float st[FB_QT / 8][4], dpt[FB_QT / 8][4];
            zero(st);
            zero(dpt);
            mma_abt<BF16, HD>(st, kRowA, smem_addr(q_ + lane_row<false>(lane) * SD + lane_col<false>(lane)));
            mma_abt<BF16, HD>(dpt, vRowA, smem_addr(g_ + lane_row<false>(lane) * SD + lane_col<false>(lane)));
#pragma unroll
            for (int nc = 0; nc < FB_QT / 8; nc++) {
#pragma unroll
                for (int half = 0; half < 2; half++) {
                    int key = wk + g + half * 8;
                    bool keyOk = n0 + key < kvLen;
#pragma unroll
                    for (int j = 0; j < 2; j++) {
                        int e = 2 * half + j, qi = nc * 8 + t * 2 + j;
                        bool ok = keyOk && m0 + qi < Lq;
                        float p = ok ? exp2f(fmaf(st[nc][e], sl2, -l_[qi] * FB_LOG2E)) : 0.f;
                        st[nc][e] = p;
                        dpt[nc][e] = p * (dpt[nc][e] - d_[qi]);
                    }
                    *(u32*) (sS + key * SS + nc * 8 + t * 2) = pack2_rn<BF16>(dpt[nc][2 * half], dpt[nc][2 * half + 1]);
                }
            }
            mma_c_b<BF16, HD>(accV, st, smem_addr(g_ + lane_row<true>(lane) * SD + lane_col<true>(lane)));
            mma_c_b<BF16, HD>(accK, dpt, smem_addr(q_ + lane_row<true>(lane) * SD + lane_col<true>(lane)));
            __syncthreads();
            // dQ rows m0 + qw.. (16 queries), dims dw.. (DQ) += dS [16, FB_KT] · K [FB_KT, DQ]
            float dq[DQ / 8][4];
            zero(dq);
#pragma unroll 1
            for (int kc = 0; kc < FB_KT / 16; kc++) {
                u32 a[4];
                ldmatrix_x4_trans(a, sRowT + kc * 16 * SS * 2);
#pragma unroll
                for (int dp = 0; dp < DQ / 16; dp++) {
                    u32 bf[4];
                    ldmatrix_x4_trans(bf, kRowT + (kc * 16 * SD + dw + dp * 16) * 2);
                    mma16816<BF16>(dq[2 * dp], a, bf[0], bf[1]);
                    mma16816<BF16>(dq[2 * dp + 1], a, bf[2], bf[3]);
                }
            }
            float scale = (float) scaleD;
#pragma unroll
            for (int half = 0; half < 2; half++) {
                i64 qi = m0 + qw + g + half * 8;
                if (qi >= Lq) continue;
                float* row = dqAcc + (bh * Lq + qi) * HD + dw + t * 2;
#pragma unroll
                for (int c = 0; c < DQ / 8; c++) red_add2(row + c * 8, dq[c][2 * half] * scale, dq[c][2 * half + 1] * scale);
            }
        }
    }
    store_rows<BF16, HD>(dk, dkp, b, h, n0 + warp * 16, Lk, accK, (float) scaleD, g, t);
    store_rows<BF16, HD>(dv, dvp, b, h, n0 + warp * 16, Lk, accV, 1.f, g, t);
}

#define FLASH_BWD_KERNEL(NAME, BF16, HD)                                                                               \
    extern "C" __global__ void __launch_bounds__(FB_THREADS) NAME(Layout q, Layout k, Layout v, Layout g, Layout dk,  \
            Layout dv, const char* qp, const char* kp, const char* vp, const char* gp, char* dkp, char* dvp,          \
            const float* lse, const float* delta, float* dqAcc, const int* kvLengths, double scale) {                 \
        attention_flash_backward_impl<BF16, HD>(q, k, v, g, dk, dv, qp, kp, vp, gp, dkp, dvp, lse, delta, dqAcc,     \
                                                kvLengths, scale);                                                    \
    }

FLASH_BWD_KERNEL(attention_flash_backward_bf16_d64, true, 64)
FLASH_BWD_KERNEL(attention_flash_backward_bf16_d128, true, 128)
FLASH_BWD_KERNEL(attention_flash_backward_f16_d64, false, 64)
FLASH_BWD_KERNEL(attention_flash_backward_f16_d128, false, 128)
