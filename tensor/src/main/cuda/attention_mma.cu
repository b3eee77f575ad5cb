// Tensor-core flash-attention forward for BF16/F16 q, k, v (FlashAttention-2 structure on mma.sync.m16n8k16 with
// fp32 accumulation): a block of 4 warps owns 64 query rows of one (batch, head), 16 per warp, and walks the keys in
// tiles of 64 through shared memory. S = Q·Kᵀ and O += P·V are warp-level MMAs; the online softmax runs on the
// S fragments in registers (exp2 with the scale folded in), and P is re-packed from the S accumulator layout into
// the A-operand layout without touching shared memory. D and Dv must be multiples of 16, at most 128; other
// shapes and dtypes take attention.cu. Inputs may be any strided views (tiles are gathered, and converted if the
// dtype differs from the MMA's). Fragment layouts: PTX ISA, "Matrix Fragments for mma.m16n8k16".
#include "loraid_mma.cuh"

#define MBM 64
#define MBN 64
#define MNT 128
#define MAXD 128
#define PAD MMA_PAD

template <bool BF16> __device__ void attention_forward_mma_impl(const Layout& q, const Layout& k, const Layout& v,
        const Layout& o, const char* qp, const char* kp, const char* vp, char* op, float* lse, const int* kvLengths,
        double scale) {
    extern __shared__ __align__(16) unsigned char smem[];
    int H = (int) q.sizes[1], D = (int) q.sizes[3], Dv = (int) v.sizes[3];
    i64 Lq = q.sizes[2], Lk = k.sizes[2];
    i64 b = blockIdx.y / H, h = blockIdx.y % H, m0 = (i64) blockIdx.x * MBM;
    i64 kvLen = kvLengths ? max((i64) 0, min((i64) kvLengths[b], Lk)) : Lk;
    int sd = D + PAD, svt = MBN + PAD;
    u16* sQ = (u16*) smem;
    u16* sK = sQ + MBM * sd;
    u16* sVt = sK + MBN * sd;          // V transposed: [Dv][keys]
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    gather_tile<BF16>(sQ, nullptr, q, qp, b, h, m0, MBM, Lq);
    __syncthreads();
    // A fragments of this warp's 16 query rows, all of D
    u32 qa[MAXD / 16][4];
    const u16* q0 = sQ + (warp * 16 + g) * sd;
    const u16* q8 = q0 + 8 * sd;
#pragma unroll
    for (int kc = 0; kc < MAXD / 16; kc++) {
        if (kc * 16 < D) {
            qa[kc][0] = ld32(q0 + kc * 16 + t * 2);
            qa[kc][1] = ld32(q8 + kc * 16 + t * 2);
            qa[kc][2] = ld32(q0 + kc * 16 + 8 + t * 2);
            qa[kc][3] = ld32(q8 + kc * 16 + 8 + t * 2);
        }
    }
    float acc[MAXD / 8][4];
#pragma unroll
    for (int dc = 0; dc < MAXD / 8; dc++) acc[dc][0] = acc[dc][1] = acc[dc][2] = acc[dc][3] = 0.f;
    float m[2] = {-LD_INF, -LD_INF};   // running max of rows g and g + 8, in log2 units (scores · scale · log2 e)
    float l[2] = {0.f, 0.f};
    float sl2 = (float) (scale * 1.4426950408889634);
    for (i64 n0 = 0; n0 < kvLen; n0 += MBN) {
        __syncthreads();
        gather_tile<BF16>(sK, nullptr, k, kp, b, h, n0, MBN, kvLen);
        gather_tile<BF16>(nullptr, sVt, v, vp, b, h, n0, MBN, kvLen);
        __syncthreads();
        float s[MBN / 8][4];
#pragma unroll
        for (int nc = 0; nc < MBN / 8; nc++) {
            s[nc][0] = s[nc][1] = s[nc][2] = s[nc][3] = 0.f;
            const u16* kr = sK + (nc * 8 + g) * sd;
#pragma unroll
            for (int kc = 0; kc < MAXD / 16; kc++) {
                if (kc * 16 < D) mma16816<BF16>(s[nc], qa[kc], ld32(kr + kc * 16 + t * 2), ld32(kr + kc * 16 + 8 + t * 2));
            }
        }
        float mx[2] = {-LD_INF, -LD_INF};
#pragma unroll
        for (int nc = 0; nc < MBN / 8; nc++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                i64 key = n0 + nc * 8 + t * 2 + (e & 1);
                float val = key < kvLen ? s[nc][e] * sl2 : -LD_INF;
                s[nc][e] = val;
                mx[e >> 1] = fmaxf(mx[e >> 1], val);
            }
        }
        float alpha[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            float mNew = fmaxf(m[r], mx[r]);   // finite: key n0 is valid
            alpha[r] = exp2f(m[r] - mNew);
            m[r] = mNew;
        }
        float rs[2] = {0.f, 0.f};
#pragma unroll
        for (int nc = 0; nc < MBN / 8; nc++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                float p = exp2f(s[nc][e] - m[e >> 1]);
                s[nc][e] = p;
                rs[e >> 1] += p;
            }
        }
#pragma unroll
        for (int r = 0; r < 2; r++) {
            rs[r] += __shfl_xor_sync(0xffffffffu, rs[r], 1);
            rs[r] += __shfl_xor_sync(0xffffffffu, rs[r], 2);
            l[r] = l[r] * alpha[r] + rs[r];
        }
#pragma unroll
        for (int dc = 0; dc < MAXD / 8; dc++) {
            acc[dc][0] *= alpha[0];
            acc[dc][1] *= alpha[0];
            acc[dc][2] *= alpha[1];
            acc[dc][3] *= alpha[1];
        }
        // O += P·V: the S accumulators of key chunks 2kc, 2kc+1 are exactly the A fragment of keys [16kc, 16kc+16)
#pragma unroll
        for (int kc = 0; kc < MBN / 16; kc++) {
            u32 pa[4] = {pack2<BF16>(s[2 * kc][0], s[2 * kc][1]), pack2<BF16>(s[2 * kc][2], s[2 * kc][3]),
                         pack2<BF16>(s[2 * kc + 1][0], s[2 * kc + 1][1]), pack2<BF16>(s[2 * kc + 1][2], s[2 * kc + 1][3])};
#pragma unroll
            for (int dc = 0; dc < MAXD / 8; dc++) {
                if (dc * 8 < Dv) {
                    // B(k = keys 16kc + 2t.., n = dim 8dc + g): consecutive keys of one row of Vᵀ
                    const u16* vt = sVt + (dc * 8 + g) * svt + kc * 16 + t * 2;
                    mma16816<BF16>(acc[dc], pa, ld32(vt), ld32(vt + 8));
                }
            }
        }
    }
    i64 rows[2] = {m0 + warp * 16 + g, m0 + warp * 16 + g + 8};
#pragma unroll
    for (int r = 0; r < 2; r++) {
        if (rows[r] >= Lq) continue;
        float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
#pragma unroll
        for (int dc = 0; dc < MAXD / 8; dc++) {
            if (dc * 8 < Dv) {
                int d = dc * 8 + t * 2;
                store<float>(op, off4(o, b, h, rows[r], d), o.dtype, acc[dc][2 * r] * inv);
                store<float>(op, off4(o, b, h, rows[r], d + 1), o.dtype, acc[dc][2 * r + 1] * inv);
            }
        }
        if (lse && t == 0) {
            lse[(b * H + h) * Lq + rows[r]] = l[r] > 0.f ? m[r] * 0.6931471805599453f + logf(l[r]) : -LD_INF;
        }
    }
}

extern "C" __global__ void __launch_bounds__(MNT) attention_forward_mma_bf16(Layout q, Layout k, Layout v, Layout o,
        const char* qp, const char* kp, const char* vp, char* op, float* lse, const int* kvLengths, double scale) {
    attention_forward_mma_impl<true>(q, k, v, o, qp, kp, vp, op, lse, kvLengths, scale);
}

extern "C" __global__ void __launch_bounds__(MNT) attention_forward_mma_f16(Layout q, Layout k, Layout v, Layout o,
        const char* qp, const char* kp, const char* vp, char* op, float* lse, const int* kvLengths, double scale) {
    attention_forward_mma_impl<false>(q, k, v, o, qp, kp, vp, op, lse, kvLengths, scale);
}
