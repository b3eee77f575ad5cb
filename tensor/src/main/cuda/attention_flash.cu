// FLASH attention forward (FlashAttention-2 on mma.sync.m16n8k16, fp32 accumulation) for BF16/F16 q, k, v whose
// rows are unit-stride and 16-byte aligned (CudaAttention.flashKernel checks this on the host), head dim D = Dv a
// compile-time constant (64 or 128).
//
// Tiling: a block of 4 warps owns FB_M = 128 query rows of one (batch, head), 32 rows (two 16-row m-tiles) per
// warp, so every K/V fragment read from shared memory feeds two MMAs. A warp keeps its O accumulator (2 × D / 8 × 4
// fp32), the online-softmax state of its rows, and at D = 64 its Q A-fragments in registers; at D = 128 Q's
// fragments are re-read from shared memory each k-step (as FlashAttention-2 does). Keys are walked in tiles of
// FB_N(D): 64 at D = 64, 32 at D = 128 (with 64, S and O of two m-tiles exceed 255 registers and spill). ptxas
// (sm_90): 254 registers at D = 64, 251 at D = 128, no spills; 2 blocks (8 warps) per SM.
// Pipeline (two stages, one cp.async group per tile): K and V of tile j + 1 are issued with 16-byte cp.async.cg
// into stage (j + 1) % 2 before tile j is computed; wait_group 1 then a barrier make tile j visible to every warp,
// and a barrier at the end of the iteration keeps stage j % 2 from being refilled (at iteration j + 1) while a warp
// still reads it. Shared rows are padded by 16 bytes (an odd number of 16-byte units per row), so the 8 row
// addresses of every ldmatrix phase hit distinct banks.
// Per tile: S = Q·Kᵀ with K's B fragments from ldmatrix.x4 (K rows are the n index, contiguous in k); the online
// softmax in the exp2 domain (scale · log2 e folded in), masking only on the tile that crosses kvLen; O += P·V
// with P re-packed from the S accumulators into A fragments in registers and V's B fragments read straight from
// row-major V with ldmatrix.x4.trans. Rows past kvLen are zero-filled by cp.async (no NaN from stale shared
// memory), rows past Lq are zero-filled and never stored. The epilogue stages O (in the operand type) through the
// warp's own Q rows and writes it with 16-byte stores when the out view allows, else element by element; lse
// (natural log) goes to [B, H, Lq] F32. kvLen = 0 gives O = 0 and lse = -inf (as attention.cu and the CPU).
// Fragment layouts: PTX ISA, "Matrix Fragments for mma.m16n8k16" and "Warp-level matrix load instruction: ldmatrix".
#include "loraid_mma.cuh"

#define FB_M 128
// keys per tile: 64, or 32 at D = 128, where 64 would spill (S of two m-tiles next to O)
#define FB_N(D) ((D) <= 64 ? 64 : 32)
#define FB_MT 2                              // 16-row m-tiles per warp
#define FB_WARPS (FB_M / (16 * FB_MT))
#define FB_THREADS (FB_WARPS * 32)
#define FB_PAD 8                             // elements: 16 bytes

// Rows [row0, row0 + ROWS) of (b, h) into shared s[ROWS][D + FB_PAD] with 16-byte cp.async, zero past `limit`:
// thread x copies column chunk x % (D / 8) of rows x / (D / 8) + i · FB_THREADS / (D / 8).
template <int D, int ROWS> __device__ __forceinline__ void flash_load_tile(u16* s, const u16* base, i64 rowStride,
                                                                           i64 row0, i64 limit) {
    constexpr int PER_ROW = D / 8, STEP = FB_THREADS / PER_ROW;
    static_assert(FB_THREADS % PER_ROW == 0 && ROWS % STEP == 0, "whole rows per pass");
    int r = threadIdx.x / PER_ROW, c = (threadIdx.x % PER_ROW) * 8;
    const u16* src = base + (row0 + r) * rowStride + c;
    u32 dst = smem_addr(s + r * (D + FB_PAD) + c);
#pragma unroll
    for (int i = 0; i < ROWS / STEP; i++) {
        bool valid = row0 + r + i * STEP < limit;
        cp_async16(dst + i * STEP * (D + FB_PAD) * 2, valid ? src + i * STEP * rowStride : base, valid);
    }
}

template <bool BF16, int D> __device__ void attention_flash_forward_impl(const Layout& q, const Layout& k,
        const Layout& v, const Layout& o, const char* qp, const char* kp, const char* vp, char* op, float* lse,
        const int* kvLengths, double scale) {
    constexpr int SD = D + FB_PAD;
    constexpr int MT = FB_MT;
    constexpr int BN = FB_N(D);
    // Q's A fragments stay in registers when they fit next to O and S (MT · D / 4 of them), else each k-step
    // reloads them from shared memory (ldmatrix) as FlashAttention-2 does at D = 128
    constexpr bool Q_IN_REGS = MT * D <= 128;
    extern __shared__ __align__(16) unsigned char smem[];
    u16* sQ = (u16*) smem;                // [FB_M][SD]
    u16* sK = sQ + FB_M * SD;             // [2][BN][SD]
    u16* sV = sK + 2 * BN * SD;           // [2][BN][SD]
    int H = (int) q.sizes[1];
    i64 Lq = q.sizes[2], Lk = k.sizes[2];
    i64 b = blockIdx.y / H, h = blockIdx.y % H, m0 = (i64) blockIdx.x * FB_M;
    i64 kvLen = kvLengths ? max((i64) 0, min((i64) kvLengths[b], Lk)) : Lk;
    const u16* qb = (const u16*) qp + off4(q, b, h, 0, 0);
    const u16* kb = (const u16*) kp + off4(k, b, h, 0, 0);
    const u16* vb = (const u16*) vp + off4(v, b, h, 0, 0);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int w0 = warp * 16 * MT;              // this warp's first row in the block
    int tiles = (int) ((kvLen + BN - 1) / BN);

    flash_load_tile<D, FB_M>(sQ, qb, q.strides[2], m0, Lq);
    if (tiles > 0) {
        flash_load_tile<D, BN>(sK, kb, k.strides[2], 0, kvLen);
        flash_load_tile<D, BN>(sV, vb, v.strides[2], 0, kvLen);
    }
    cp_async_commit();

    // ldmatrix row addresses of this lane (see ldmatrix_x4): A of Q (16 rows × 16 k; m-tile mt is 16 rows further),
    // B of K (two n8 chunks × 16 k), B of V transposed (16 keys × two n8 chunks)
    u32 qAddr = smem_addr(sQ + (w0 + (lane & 7) + ((lane >> 3) & 1) * 8) * SD + (lane >> 4) * 8);
    int kOff = ((lane & 7) + (lane >> 4) * 8) * SD + ((lane >> 3) & 1) * 8;
    int vOff = ((lane & 7) + ((lane >> 3) & 1) * 8) * SD + (lane >> 4) * 8;

    u32 qa[Q_IN_REGS ? D / 16 : 1][MT][4];
    float acc[MT][D / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int dc = 0; dc < D / 8; dc++) acc[mt][dc][0] = acc[mt][dc][1] = acc[mt][dc][2] = acc[mt][dc][3] = 0.f;
    }
    // running max of rows g and g + 8 of each m-tile, in log2 units (scores · scale · log2 e), and this lane's
    // partial sums of their exponentials (the row's four lanes are added once, at the end)
    float m[MT][2], l[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) m[mt][0] = m[mt][1] = -LD_INF, l[mt][0] = l[mt][1] = 0.f;
    float sl2 = (float) (scale * 1.4426950408889634);

    for (int j = 0; j < tiles; j++) {
        int stage = j & 1;
        if (j + 1 < tiles) {
            u16* nk = sK + (stage ^ 1) * BN * SD;
            u16* nv = sV + (stage ^ 1) * BN * SD;
            flash_load_tile<D, BN>(nk, kb, k.strides[2], (i64) (j + 1) * BN, kvLen);
            flash_load_tile<D, BN>(nv, vb, v.strides[2], (i64) (j + 1) * BN, kvLen);
        }
        cp_async_commit();       // possibly empty: tile j's group is then always the second newest
        cp_async_wait<1>();
        __syncthreads();
        if (Q_IN_REGS && j == 0) {
#pragma unroll
            for (int kc = 0; kc < (Q_IN_REGS ? D / 16 : 0); kc++) {
#pragma unroll
                for (int mt = 0; mt < MT; mt++) ldmatrix_x4(qa[kc][mt], qAddr + (mt * 16 * SD + kc * 16) * 2);
            }
        }
        u32 kBase = smem_addr(sK + stage * BN * SD + kOff);
        u32 vBase = smem_addr(sV + stage * BN * SD + vOff);

        float s[MT][BN / 8][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
#pragma unroll
            for (int nc = 0; nc < BN / 8; nc++) s[mt][nc][0] = s[mt][nc][1] = s[mt][nc][2] = s[mt][nc][3] = 0.f;
        }
#pragma unroll
        for (int kc = 0; kc < D / 16; kc++) {
            u32 qf[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                if (Q_IN_REGS) {
#pragma unroll
                    for (int x = 0; x < 4; x++) qf[mt][x] = qa[Q_IN_REGS ? kc : 0][mt][x];
                } else {
                    ldmatrix_x4(qf[mt], qAddr + (mt * 16 * SD + kc * 16) * 2);
                }
            }
#pragma unroll
            for (int np = 0; np < BN / 16; np++) {
                u32 kf[4];   // b0, b1 of keys 16np..+7, then of keys 16np+8..+15, over d 16kc..+15
                ldmatrix_x4(kf, kBase + (np * 16 * SD + kc * 16) * 2);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma16816<BF16>(s[mt][2 * np], qf[mt], kf[0], kf[1]);
                    mma16816<BF16>(s[mt][2 * np + 1], qf[mt], kf[2], kf[3]);
                }
            }
        }
        int valid = (int) min((i64) BN, kvLen - (i64) j * BN);   // keys of this tile below kvLen
        bool partial = valid < BN;
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            float mx[2] = {-LD_INF, -LD_INF};
#pragma unroll
            for (int nc = 0; nc < BN / 8; nc++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {   // element e: row g + 8 (e >> 1), key 8nc + 2t + (e & 1) of the tile
                    float val = s[mt][nc][e] * sl2;
                    if (partial && nc * 8 + t * 2 + (e & 1) >= valid) val = -LD_INF;
                    s[mt][nc][e] = val;
                    mx[e >> 1] = fmaxf(mx[e >> 1], val);
                }
            }
            float alpha[2];
#pragma unroll
            for (int r = 0; r < 2; r++) {
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
                float mNew = fmaxf(m[mt][r], mx[r]);   // finite: the tile's first key is valid
                alpha[r] = exp2f(m[mt][r] - mNew);
                m[mt][r] = mNew;
            }
            float rs[2] = {0.f, 0.f};
#pragma unroll
            for (int nc = 0; nc < BN / 8; nc++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    float p = exp2f(s[mt][nc][e] - m[mt][e >> 1]);
                    s[mt][nc][e] = p;
                    rs[e >> 1] += p;
                }
            }
#pragma unroll
            for (int r = 0; r < 2; r++) l[mt][r] = l[mt][r] * alpha[r] + rs[r];
#pragma unroll
            for (int dc = 0; dc < D / 8; dc++) {
                acc[mt][dc][0] *= alpha[0];
                acc[mt][dc][1] *= alpha[0];
                acc[mt][dc][2] *= alpha[1];
                acc[mt][dc][3] *= alpha[1];
            }
        }
        // O += P·V: the S accumulators of key chunks 2kc, 2kc+1 are exactly the A fragment of keys [16kc, 16kc+16)
#pragma unroll
        for (int kc = 0; kc < BN / 16; kc++) {
            u32 pa[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                pa[mt][0] = pack2_rn<BF16>(s[mt][2 * kc][0], s[mt][2 * kc][1]);
                pa[mt][1] = pack2_rn<BF16>(s[mt][2 * kc][2], s[mt][2 * kc][3]);
                pa[mt][2] = pack2_rn<BF16>(s[mt][2 * kc + 1][0], s[mt][2 * kc + 1][1]);
                pa[mt][3] = pack2_rn<BF16>(s[mt][2 * kc + 1][2], s[mt][2 * kc + 1][3]);
            }
#pragma unroll
            for (int dp = 0; dp < D / 16; dp++) {
                u32 vf[4];   // b0, b1 of dims 16dp..+7, then of dims 16dp+8..+15, over keys 16kc..+15
                ldmatrix_x4_trans(vf, vBase + (kc * 16 * SD + dp * 16) * 2);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma16816<BF16>(acc[mt][2 * dp], pa[mt], vf[0], vf[1]);
                    mma16816<BF16>(acc[mt][2 * dp + 1], pa[mt], vf[2], vf[3]);
                }
            }
        }
        __syncthreads();   // every warp is done with this stage before the next iteration refills it
    }
    // nothing of any thread may still be landing in sQ when the epilogue reuses it (with no key tile, no barrier
    // has passed since Q was issued)
    cp_async_wait<0>();
    __syncthreads();

    int want = BF16 ? DT_BF16 : DT_F16;
    bool staged = o.dtype == want && o.strides[3] == 1;
    u16* so = sQ + w0 * SD;   // this warp's own Q rows: no other warp reads them
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        float inv[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            l[mt][r] += __shfl_xor_sync(0xffffffffu, l[mt][r], 1);
            l[mt][r] += __shfl_xor_sync(0xffffffffu, l[mt][r], 2);
            inv[r] = l[mt][r] > 0.f ? 1.f / l[mt][r] : 0.f;
            i64 row = m0 + w0 + mt * 16 + g + 8 * r;
            if (row >= Lq) continue;
            if (lse && t == 0) {
                lse[(b * H + h) * Lq + row] = l[mt][r] > 0.f ? m[mt][r] * 0.6931471805599453f + logf(l[mt][r]) : -LD_INF;
            }
            if (!staged) {
#pragma unroll
                for (int dc = 0; dc < D / 8; dc++) {
                    int d = dc * 8 + t * 2;
                    store<float>(op, off4(o, b, h, row, d), o.dtype, acc[mt][dc][2 * r] * inv[r]);
                    store<float>(op, off4(o, b, h, row, d + 1), o.dtype, acc[mt][dc][2 * r + 1] * inv[r]);
                }
            }
        }
        if (staged) {
#pragma unroll
            for (int dc = 0; dc < D / 8; dc++) {
                *(u32*) (so + (mt * 16 + g) * SD + dc * 8 + t * 2) =
                    pack2_rn<BF16>(acc[mt][dc][0] * inv[0], acc[mt][dc][1] * inv[0]);
                *(u32*) (so + (mt * 16 + g + 8) * SD + dc * 8 + t * 2) =
                    pack2_rn<BF16>(acc[mt][dc][2] * inv[1], acc[mt][dc][3] * inv[1]);
            }
        }
    }
    if (!staged) return;
    __syncwarp();
    // 16 bytes a lane: out rows are unit-stride; a row that does not start 16-byte aligned is stored element-wise
    u16* ob = (u16*) op + off4(o, b, h, 0, 0);
    constexpr int PER_ROW = D / 8;
#pragma unroll
    for (int e = lane; e < 16 * MT * PER_ROW; e += 32) {
        int i = e / PER_ROW, c = (e % PER_ROW) * 8;
        i64 row = m0 + w0 + i;
        if (row >= Lq) continue;
        u16* dst = ob + row * o.strides[2] + c;
        uint4 val = *(const uint4*) (so + i * SD + c);
        if (((u64) dst & 15) == 0) {
            *(uint4*) dst = val;
        } else {
            const u16* hv = (const u16*) &val;
#pragma unroll
            for (int x = 0; x < 8; x++) dst[x] = hv[x];
        }
    }
}

#define FLASH_FORWARD(NAME, BF16, D)                                                                                   \
    extern "C" __global__ void __launch_bounds__(FB_THREADS) NAME(Layout q, Layout k, Layout v, Layout o,              \
            const char* qp, const char* kp, const char* vp, char* op, float* lse, const int* kvLengths, double scale) { \
        attention_flash_forward_impl<BF16, D>(q, k, v, o, qp, kp, vp, op, lse, kvLengths, scale);                     \
    }

FLASH_FORWARD(attention_flash_forward_bf16_d64, true, 64)
FLASH_FORWARD(attention_flash_forward_bf16_d128, true, 128)
FLASH_FORWARD(attention_flash_forward_f16_d64, false, 64)
FLASH_FORWARD(attention_flash_forward_f16_d128, false, 128)
