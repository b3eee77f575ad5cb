// FLASH attention forward (FlashAttention-2 on mma.sync.m16n8k16, fp32 accumulation) for BF16/F16 q, k, v whose
// rows are unit-stride and 16-byte aligned (CudaAttention.flashKernel checks this on the host), head dim D = Dv a
// compile-time constant (64 or 128).
//
// Tiling: a block of 8 warps owns FB_M = 128 query rows of one (batch, head), 16 rows per warp; the warp keeps its
// Q as A fragments in registers (D / 16 × 4), its O accumulator (D / 8 × 4 fp32) and the online-softmax state of its
// rows g and g + 8. Keys are walked in tiles of FB_N = 64.
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
#define FB_N 64
#define FB_WARPS 8
#define FB_THREADS (FB_WARPS * 32)
#define FB_PAD 8   // elements: 16 bytes

// Rows [row0, row0 + rows) of (b, h) into shared s[rows][D + FB_PAD] with 16-byte cp.async, zero past `limit`.
template <int D> __device__ __forceinline__ void flash_load_tile(u16* s, const u16* base, i64 rowStride, i64 row0,
                                                                 int rows, i64 limit) {
    constexpr int PER_ROW = D / 8;
    for (int e = threadIdx.x; e < rows * PER_ROW; e += FB_THREADS) {
        int i = e / PER_ROW, c = (e % PER_ROW) * 8;
        bool valid = row0 + i < limit;
        const u16* src = valid ? base + (row0 + i) * rowStride + c : base;
        cp_async16(smem_addr(s + i * (D + FB_PAD) + c), src, valid);
    }
}

template <bool BF16, int D> __device__ void attention_flash_forward_impl(const Layout& q, const Layout& k,
        const Layout& v, const Layout& o, const char* qp, const char* kp, const char* vp, char* op, float* lse,
        const int* kvLengths, double scale) {
    constexpr int SD = D + FB_PAD;
    extern __shared__ __align__(16) unsigned char smem[];
    u16* sQ = (u16*) smem;                // [FB_M][SD]
    u16* sK = sQ + FB_M * SD;             // [2][FB_N][SD]
    u16* sV = sK + 2 * FB_N * SD;         // [2][FB_N][SD]
    int H = (int) q.sizes[1];
    i64 Lq = q.sizes[2], Lk = k.sizes[2];
    i64 b = blockIdx.y / H, h = blockIdx.y % H, m0 = (i64) blockIdx.x * FB_M;
    i64 kvLen = kvLengths ? max((i64) 0, min((i64) kvLengths[b], Lk)) : Lk;
    const u16* qb = (const u16*) qp + off4(q, b, h, 0, 0);
    const u16* kb = (const u16*) kp + off4(k, b, h, 0, 0);
    const u16* vb = (const u16*) vp + off4(v, b, h, 0, 0);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int tiles = (int) ((kvLen + FB_N - 1) / FB_N);

    flash_load_tile<D>(sQ, qb, q.strides[2], m0, FB_M, Lq);
    if (tiles > 0) {
        flash_load_tile<D>(sK, kb, k.strides[2], 0, FB_N, kvLen);
        flash_load_tile<D>(sV, vb, v.strides[2], 0, FB_N, kvLen);
    }
    cp_async_commit();

    // ldmatrix row addresses of this lane (see ldmatrix_x4): A of Q (16 rows × 16 k), B of K (two n8 chunks × 16 k),
    // B of V transposed (16 keys × two n8 chunks)
    u32 qAddr = smem_addr(sQ + (warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * SD + (lane >> 4) * 8);
    int kOff = ((lane & 7) + (lane >> 4) * 8) * SD + ((lane >> 3) & 1) * 8;
    int vOff = ((lane & 7) + ((lane >> 3) & 1) * 8) * SD + (lane >> 4) * 8;

    u32 qa[D / 16][4];
    float acc[D / 8][4];
#pragma unroll
    for (int dc = 0; dc < D / 8; dc++) acc[dc][0] = acc[dc][1] = acc[dc][2] = acc[dc][3] = 0.f;
    float m[2] = {-LD_INF, -LD_INF};   // running max of rows g and g + 8, in log2 units (scores · scale · log2 e)
    float l[2] = {0.f, 0.f};
    float sl2 = (float) (scale * 1.4426950408889634);

    for (int j = 0; j < tiles; j++) {
        int stage = j & 1;
        if (j + 1 < tiles) {
            u16* nk = sK + (stage ^ 1) * FB_N * SD;
            u16* nv = sV + (stage ^ 1) * FB_N * SD;
            flash_load_tile<D>(nk, kb, k.strides[2], (i64) (j + 1) * FB_N, FB_N, kvLen);
            flash_load_tile<D>(nv, vb, v.strides[2], (i64) (j + 1) * FB_N, FB_N, kvLen);
        }
        cp_async_commit();       // possibly empty: tile j's group is then always the second newest
        cp_async_wait<1>();
        __syncthreads();
        if (j == 0) {
#pragma unroll
            for (int kc = 0; kc < D / 16; kc++) ldmatrix_x4(qa[kc], qAddr + kc * 32);
        }
        u32 kBase = smem_addr(sK + stage * FB_N * SD + kOff);
        u32 vBase = smem_addr(sV + stage * FB_N * SD + vOff);

        float s[FB_N / 8][4];
#pragma unroll
        for (int nc = 0; nc < FB_N / 8; nc++) s[nc][0] = s[nc][1] = s[nc][2] = s[nc][3] = 0.f;
#pragma unroll
        for (int kc = 0; kc < D / 16; kc++) {
#pragma unroll
            for (int np = 0; np < FB_N / 16; np++) {
                u32 kf[4];   // b0, b1 of keys 16np..+7, then of keys 16np+8..+15, over d 16kc..+15
                ldmatrix_x4(kf, kBase + (np * 16 * SD + kc * 16) * 2);
                mma16816<BF16>(s[2 * np], qa[kc], kf[0], kf[1]);
                mma16816<BF16>(s[2 * np + 1], qa[kc], kf[2], kf[3]);
            }
        }
        i64 n0 = (i64) j * FB_N;
        bool partial = n0 + FB_N > kvLen;
        float mx[2] = {-LD_INF, -LD_INF};
#pragma unroll
        for (int nc = 0; nc < FB_N / 8; nc++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                float val = s[nc][e] * sl2;
                if (partial && n0 + nc * 8 + t * 2 + (e & 1) >= kvLen) val = -LD_INF;
                s[nc][e] = val;
                mx[e >> 1] = fmaxf(mx[e >> 1], val);
            }
        }
        float alpha[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            float mNew = fmaxf(m[r], mx[r]);   // finite: key n0 < kvLen is valid
            alpha[r] = exp2f(m[r] - mNew);
            m[r] = mNew;
        }
        float rs[2] = {0.f, 0.f};
#pragma unroll
        for (int nc = 0; nc < FB_N / 8; nc++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                float p = exp2f(s[nc][e] - m[e >> 1]);
                s[nc][e] = p;
                rs[e >> 1] += p;
            }
        }
#pragma unroll
        for (int r = 0; r < 2; r++) l[r] = l[r] * alpha[r] + rs[r];   // lane-partial sums: reduced once at the end
#pragma unroll
        for (int dc = 0; dc < D / 8; dc++) {
            acc[dc][0] *= alpha[0];
            acc[dc][1] *= alpha[0];
            acc[dc][2] *= alpha[1];
            acc[dc][3] *= alpha[1];
        }
        // O += P·V: the S accumulators of key chunks 2kc, 2kc+1 are exactly the A fragment of keys [16kc, 16kc+16)
#pragma unroll
        for (int kc = 0; kc < FB_N / 16; kc++) {
            u32 pa[4] = {pack2_rn<BF16>(s[2 * kc][0], s[2 * kc][1]), pack2_rn<BF16>(s[2 * kc][2], s[2 * kc][3]),
                         pack2_rn<BF16>(s[2 * kc + 1][0], s[2 * kc + 1][1]), pack2_rn<BF16>(s[2 * kc + 1][2], s[2 * kc + 1][3])};
#pragma unroll
            for (int dp = 0; dp < D / 16; dp++) {
                u32 vf[4];   // b0, b1 of dims 16dp..+7, then of dims 16dp+8..+15, over keys 16kc..+15
                ldmatrix_x4_trans(vf, vBase + (kc * 16 * SD + dp * 16) * 2);
                mma16816<BF16>(acc[2 * dp], pa, vf[0], vf[1]);
                mma16816<BF16>(acc[2 * dp + 1], pa, vf[2], vf[3]);
            }
        }
        __syncthreads();   // every warp is done with this stage before the next iteration refills it
    }
    // nothing of any thread may still be landing in sQ when the epilogue reuses it (with no key tile, no barrier
    // has passed since Q was issued)
    cp_async_wait<0>();
    __syncthreads();

#pragma unroll
    for (int r = 0; r < 2; r++) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    }
    float inv[2] = {l[0] > 0.f ? 1.f / l[0] : 0.f, l[1] > 0.f ? 1.f / l[1] : 0.f};
    i64 rows[2] = {m0 + warp * 16 + g, m0 + warp * 16 + g + 8};
    if (lse && t == 0) {
#pragma unroll
        for (int r = 0; r < 2; r++) {
            if (rows[r] < Lq) lse[(b * H + h) * Lq + rows[r]] = l[r] > 0.f ? m[r] * 0.6931471805599453f + logf(l[r]) : -LD_INF;
        }
    }
    int want = BF16 ? DT_BF16 : DT_F16;
    if (o.dtype == want && o.strides[3] == 1) {
        // stage this warp's 16 rows (its own Q rows: no other warp reads them) and write 16 bytes a lane
        __syncwarp();
        u16* so = sQ + warp * 16 * SD;
#pragma unroll
        for (int dc = 0; dc < D / 8; dc++) {
            *(u32*) (so + g * SD + dc * 8 + t * 2) = pack2_rn<BF16>(acc[dc][0] * inv[0], acc[dc][1] * inv[0]);
            *(u32*) (so + (g + 8) * SD + dc * 8 + t * 2) = pack2_rn<BF16>(acc[dc][2] * inv[1], acc[dc][3] * inv[1]);
        }
        __syncwarp();
        u16* ob = (u16*) op + off4(o, b, h, 0, 0);
        constexpr int PER_ROW = D / 8;
#pragma unroll
        for (int e = lane; e < 16 * PER_ROW; e += 32) {
            int i = e / PER_ROW, c = (e % PER_ROW) * 8;
            i64 row = m0 + warp * 16 + i;
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
        return;
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        if (rows[r] >= Lq) continue;
#pragma unroll
        for (int dc = 0; dc < D / 8; dc++) {
            int d = dc * 8 + t * 2;
            store<float>(op, off4(o, b, h, rows[r], d), o.dtype, acc[dc][2 * r] * inv[r]);
            store<float>(op, off4(o, b, h, rows[r], d + 1), o.dtype, acc[dc][2 * r + 1] * inv[r]);
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
