// Tensor-core flash-attention backward for BF16/F16 q, k, v, dO (FlashAttention-2 structure on mma.sync.m16n8k16,
// fp32 accumulation). A block of 4 warps owns 64 keys of one (batch, head), 16 per warp, and walks the queries in
// steps of 32, recomputing the probabilities from lse:
//   Sᵀ = K·Qᵀ,  Pᵀ = exp(scale·Sᵀ − lse),  dPᵀ = V·dOᵀ,  dSᵀ = Pᵀ∘(dPᵀ − delta)
//   dV += Pᵀ·dO,  dK += scale·dSᵀ·Q   (registers, per warp)
//   dQ += scale·dS·K                  (dS through shared memory, added atomically into an fp32 buffer)
// Q, dO and K are also kept transposed in shared memory, so every B operand is one 32-bit load.
// delta = rowsum(dO∘O) comes from attention.cu's attention_backward_delta_f32. Same limits as the forward
// (attention_mma.cu): head dims multiples of 16 up to 128. Fragment layouts: PTX ISA, mma.m16n8k16.
#include "loraid_mma.cuh"

#define KBN 64
#define KBM 32
#define KNT 128
#define MAXD 128
#define PAD MMA_PAD

// acc[nc] (16 rows × 8 cols each) += A(16 rows from sA, all of K) · B where B[k][n] = sB[n][k] (both row-major).
template <bool BF16, int NC> __device__ __forceinline__ void mma_abt(float (&acc)[NC][4], const u16* sA, int strideA,
                                                                     const u16* sB, int strideB, int K, int g, int t) {
#pragma unroll
    for (int kc = 0; kc < MAXD / 16; kc++) {
        if (kc * 16 < K) {
            u32 a[4] = {ld32(sA + g * strideA + kc * 16 + t * 2), ld32(sA + (g + 8) * strideA + kc * 16 + t * 2),
                        ld32(sA + g * strideA + kc * 16 + 8 + t * 2), ld32(sA + (g + 8) * strideA + kc * 16 + 8 + t * 2)};
#pragma unroll
            for (int nc = 0; nc < NC; nc++) {
                const u16* br = sB + (nc * 8 + g) * strideB + kc * 16 + t * 2;
                mma16816<BF16>(acc[nc], a, ld32(br), ld32(br + 8));
            }
        }
    }
}

template <bool BF16> __device__ void attention_backward_mma_impl(const Layout& q, const Layout& k, const Layout& v,
        const Layout& g_, const Layout& dk, const Layout& dv, const char* qp, const char* kp, const char* vp,
        const char* gp, char* dkp, char* dvp, const float* lse, const float* delta, float* dqAcc,
        const int* kvLengths, double scaleD) {
    extern __shared__ __align__(16) unsigned char smem[];
    int H = (int) q.sizes[1], D = (int) q.sizes[3], Dv = (int) v.sizes[3];
    i64 Lq = q.sizes[2], Lk = k.sizes[2];
    i64 b = blockIdx.y / H, h = blockIdx.y % H, n0 = (i64) blockIdx.x * KBN, bh = b * H + h;
    i64 kvLen = kvLengths ? max((i64) 0, min((i64) kvLengths[b], Lk)) : Lk;
    int sd = D + PAD, sdv = Dv + PAD, skt = KBN + PAD, sqt = KBM + PAD;
    u16* sK = (u16*) smem;                    // K [keys][D]
    u16* sKt = sK + KBN * sd;                 // Kᵀ [D][keys]
    u16* sV = sKt + D * skt;                  // V [keys][Dv]
    u16* sQ = sV + KBN * sdv;                 // Q [queries][D]
    u16* sQt = sQ + KBM * sd;                 // Qᵀ [D][queries]
    u16* sG = sQt + D * sqt;                  // dO [queries][Dv]
    u16* sGt = sG + KBM * sdv;                // dOᵀ [Dv][queries]
    u16* sS = sGt + Dv * sqt;                 // dS [queries][keys]
    float* sL = (float*) (sS + KBM * skt);    // lse · log2 e of the step's queries
    float* sD = sL + KBM;                     // delta of the step's queries
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    float scale = (float) scaleD;
    float sl2 = (float) (scaleD * 1.4426950408889634);
    gather_tile<BF16>(sK, sKt, k, kp, b, h, n0, KBN, kvLen);
    gather_tile<BF16>(sV, nullptr, v, vp, b, h, n0, KBN, kvLen);
    float accK[MAXD / 8][4], accV[MAXD / 8][4];
#pragma unroll
    for (int c = 0; c < MAXD / 8; c++) {
        accK[c][0] = accK[c][1] = accK[c][2] = accK[c][3] = 0.f;
        accV[c][0] = accV[c][1] = accV[c][2] = accV[c][3] = 0.f;
    }
    const u16* kw = sK + warp * 16 * sd;      // this warp's 16 keys
    const u16* vw = sV + warp * 16 * sdv;
    for (i64 m0 = 0; m0 < Lq && n0 < kvLen; m0 += KBM) {
        __syncthreads();
        gather_tile<BF16>(sQ, sQt, q, qp, b, h, m0, KBM, Lq);
        gather_tile<BF16>(sG, sGt, g_, gp, b, h, m0, KBM, Lq);
        for (int i = threadIdx.x; i < KBM; i += KNT) {
            bool ok = m0 + i < Lq;
            sL[i] = ok ? lse[bh * Lq + m0 + i] * 1.4426950408889634f : 0.f;
            sD[i] = ok ? delta[bh * Lq + m0 + i] : 0.f;
        }
        __syncthreads();
        float st[KBM / 8][4], dpt[KBM / 8][4];
#pragma unroll
        for (int nc = 0; nc < KBM / 8; nc++) {
            st[nc][0] = st[nc][1] = st[nc][2] = st[nc][3] = 0.f;
            dpt[nc][0] = dpt[nc][1] = dpt[nc][2] = dpt[nc][3] = 0.f;
        }
        mma_abt<BF16, KBM / 8>(st, kw, sd, sQ, sd, D, g, t);     // Sᵀ [16 keys, 32 queries]
        mma_abt<BF16, KBM / 8>(dpt, vw, sdv, sG, sdv, Dv, g, t); // dPᵀ
#pragma unroll
        for (int nc = 0; nc < KBM / 8; nc++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int key = warp * 16 + g + (e >> 1) * 8;
                int qi = nc * 8 + t * 2 + (e & 1);
                bool ok = n0 + key < kvLen && m0 + qi < Lq;
                float p = ok ? exp2f(st[nc][e] * sl2 - sL[qi]) : 0.f;
                st[nc][e] = p;
                dpt[nc][e] = p * (dpt[nc][e] - sD[qi]);
                sS[qi * skt + key] = half_bits<BF16>(dpt[nc][e]);
            }
        }
        // dV += Pᵀ·dO and dK += dSᵀ·Q: the C fragments of query chunks 2kc, 2kc+1 are the A fragment of 16 queries
#pragma unroll
        for (int kc = 0; kc < KBM / 16; kc++) {
            u32 pa[4] = {pack2<BF16>(st[2 * kc][0], st[2 * kc][1]), pack2<BF16>(st[2 * kc][2], st[2 * kc][3]),
                         pack2<BF16>(st[2 * kc + 1][0], st[2 * kc + 1][1]), pack2<BF16>(st[2 * kc + 1][2], st[2 * kc + 1][3])};
            u32 sa[4] = {pack2<BF16>(dpt[2 * kc][0], dpt[2 * kc][1]), pack2<BF16>(dpt[2 * kc][2], dpt[2 * kc][3]),
                         pack2<BF16>(dpt[2 * kc + 1][0], dpt[2 * kc + 1][1]), pack2<BF16>(dpt[2 * kc + 1][2], dpt[2 * kc + 1][3])};
            int q0 = kc * 16 + t * 2;
#pragma unroll
            for (int dc = 0; dc < MAXD / 8; dc++) {
                int d = dc * 8 + g;   // B(k = queries q0.., n = dim d): consecutive queries of one transposed row
                if (dc * 8 < Dv) mma16816<BF16>(accV[dc], pa, ld32(sGt + d * sqt + q0), ld32(sGt + d * sqt + q0 + 8));
                if (dc * 8 < D) mma16816<BF16>(accK[dc], sa, ld32(sQt + d * sqt + q0), ld32(sQt + d * sqt + q0 + 8));
            }
        }
        __syncthreads();
        // dQ [32 queries, D] += dS [32, 64 keys] · K [64, D]: warp w takes queries 16·(w & 1).. and half of D's chunks
        {
            int qb = (warp & 1) * 16;
            int chunks = D / 8;
            int c0 = (warp >> 1) * ((chunks + 1) / 2);
            int c1 = min(chunks, c0 + (chunks + 1) / 2);
            float dq[MAXD / 16][4];
#pragma unroll
            for (int c = 0; c < MAXD / 16; c++) dq[c][0] = dq[c][1] = dq[c][2] = dq[c][3] = 0.f;
#pragma unroll
            for (int kc = 0; kc < KBN / 16; kc++) {
                int k0 = kc * 16 + t * 2;
                const u16* r0 = sS + (qb + g) * skt + k0;       // A(row = query, col = key) = dS
                const u16* r8 = r0 + 8 * skt;
                u32 a[4] = {ld32(r0), ld32(r8), ld32(r0 + 8), ld32(r8 + 8)};
#pragma unroll
                for (int c = 0; c < MAXD / 16; c++) {
                    int dc = c0 + c;
                    if (dc < c1) {
                        const u16* kt = sKt + (dc * 8 + g) * skt + k0;   // B(k = keys, n = dim): a row of Kᵀ
                        mma16816<BF16>(dq[c], a, ld32(kt), ld32(kt + 8));
                    }
                }
            }
#pragma unroll
            for (int c = 0; c < MAXD / 16; c++) {
                int dc = c0 + c;
                if (dc < c1) {
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        i64 qi = m0 + qb + g + (e >> 1) * 8;
                        int d = dc * 8 + t * 2 + (e & 1);
                        if (qi < Lq) atomicAdd(dqAcc + (bh * Lq + qi) * D + d, dq[c][e] * scale);
                    }
                }
            }
        }
    }
    // write dK, dV of this warp's keys (zero for masked keys: nothing was accumulated for them)
#pragma unroll
    for (int e = 0; e < 4; e++) {
        i64 key = n0 + warp * 16 + g + (e >> 1) * 8;
        if (key >= Lk) continue;
#pragma unroll
        for (int dc = 0; dc < MAXD / 8; dc++) {
            int d = dc * 8 + t * 2 + (e & 1);
            if (dc * 8 < D) store<float>(dkp, off4(dk, b, h, key, d), dk.dtype, accK[dc][e] * scale);
            if (dc * 8 < Dv) store<float>(dvp, off4(dv, b, h, key, d), dv.dtype, accV[dc][e]);
        }
    }
}

extern "C" __global__ void __launch_bounds__(KNT) attention_backward_mma_bf16(Layout q, Layout k, Layout v, Layout g,
        Layout dk, Layout dv, const char* qp, const char* kp, const char* vp, const char* gp, char* dkp, char* dvp,
        const float* lse, const float* delta, float* dqAcc, const int* kvLengths, double scale) {
    attention_backward_mma_impl<true>(q, k, v, g, dk, dv, qp, kp, vp, gp, dkp, dvp, lse, delta, dqAcc, kvLengths, scale);
}

extern "C" __global__ void __launch_bounds__(KNT) attention_backward_mma_f16(Layout q, Layout k, Layout v, Layout g,
        Layout dk, Layout dv, const char* qp, const char* kp, const char* vp, const char* gp, char* dkp, char* dvp,
        const float* lse, const float* delta, float* dqAcc, const int* kvLengths, double scale) {
    attention_backward_mma_impl<false>(q, k, v, g, dk, dv, qp, kp, vp, gp, dkp, dvp, lse, delta, dqAcc, kvLengths, scale);
}
