// Fused scaled-dot-product attention, FlashAttention-2 structure: a block owns a tile of BM query rows (forward)
// or BN keys (backward) of one (batch, head) and walks the other side tile by tile through shared memory with an
// online softmax, so no [Lq, Lk] matrix ever exists. q/k/v/o are strided [B, H, L, D] views of any float dtype;
// math accumulates in T (fp32, or fp64 when every tensor is F64). Four threads share a row (each owning every
// fourth column), so D and Dv may be up to 4·MAXC. lse is contiguous [B, H, Lq] F32: m + log(l) of the scaled scores.
// Scalar FMAs: the path for F32/F64 (gradient checks), mixed dtypes and head dims the tensor-core kernels
// (attention_mma*.cu, BF16/F16 with D % 16 == 0, D <= 128) do not take. attention_forward_bias_* is the same forward
// with an additive [B, H, Lq, Lk] bias read straight from its strided view (Backend.attentionWithBias, forward only).
#include "loraid_common.cuh"

#define BM 32
#define BN 32
#define NT 128
#define MAXC 64

// Loads rows [row0, row0 + rows) of (b, h) into s[rows][D + 1] (zero past `limit`).
template <typename T> __device__ void load_tile(T* s, const Layout& L, const char* p, i64 b, i64 h, i64 row0,
                                                int rows, i64 limit) {
    int D = (int) L.sizes[3];
    for (int e = threadIdx.x; e < rows * D; e += NT) {
        int i = e / D, d = e % D;
        i64 row = row0 + i;
        s[i * (D + 1) + d] = row < limit ? load<T>(p, off4(L, b, h, row, d), L.dtype) : (T) 0;
    }
}

// bp: null, or the additive bias [B, H, Lq, Lk] (layout bl, any strides and float dtype) on the scaled scores.
template <typename T> __device__ void attention_forward_impl(const Layout& q, const Layout& k, const Layout& v,
        const Layout& o, const char* qp, const char* kp, const char* vp, char* op, float* lse, const int* kvLengths,
        double scaleD, const Layout& bl, const char* bp) {
    extern __shared__ __align__(16) unsigned char smem[];
    T scale = (T) scaleD;
    int H = (int) q.sizes[1], D = (int) q.sizes[3], Dv = (int) v.sizes[3];
    i64 Lq = q.sizes[2], Lk = k.sizes[2];
    i64 b = blockIdx.y / H, h = blockIdx.y % H, m0 = (i64) blockIdx.x * BM;
    i64 kvLen = kvLengths ? max((i64) 0, min((i64) kvLengths[b], Lk)) : Lk;
    T* sQ = (T*) smem;
    T* sK = sQ + BM * (D + 1);
    T* sV = sK + BN * (D + 1);
    T* sP = sV + BN * (Dv + 1);
    int r = threadIdx.x >> 2, t = threadIdx.x & 3;
    bool biasRow = bp && m0 + r < Lq;
    load_tile<T>(sQ, q, qp, b, h, m0, BM, Lq);
    T acc[MAXC];
    for (int c = 0; c < MAXC; c++) acc[c] = 0;
    T m = -ld_inf<T>(), l = 0;
    for (i64 n0 = 0; n0 < kvLen; n0 += BN) {
        __syncthreads();
        load_tile<T>(sK, k, kp, b, h, n0, BN, kvLen);
        load_tile<T>(sV, v, vp, b, h, n0, BN, kvLen);
        __syncthreads();
        T s[BN / 4];
        T tileMax = -ld_inf<T>();
        for (int jj = 0; jj < BN / 4; jj++) {
            int j = t + 4 * jj;
            T dot = 0;
            for (int d = 0; d < D; d++) dot += sQ[r * (D + 1) + d] * sK[j * (D + 1) + d];
            s[jj] = n0 + j < kvLen ? dot * scale : -ld_inf<T>();
            if (biasRow && n0 + j < kvLen) s[jj] += load<T>(bp, off4(bl, b, h, m0 + r, n0 + j), bl.dtype);
            tileMax = s[jj] > tileMax ? s[jj] : tileMax;
        }
        tileMax = max(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 1));
        tileMax = max(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 2));
        T mNew = m > tileMax ? m : tileMax;
        // -inf only when every score so far is -inf (a bias of -inf): nothing to weigh yet, and exp(-inf - -inf) is NaN
        bool none = mNew == -ld_inf<T>();
        T alpha = none ? (T) 1 : ld_exp(m - mNew);
        T psum = 0;
        for (int jj = 0; jj < BN / 4; jj++) {
            T p = none ? (T) 0 : ld_exp(s[jj] - mNew);
            sP[r * (BN + 1) + t + 4 * jj] = p;
            psum += p;
        }
        psum += __shfl_xor_sync(0xffffffffu, psum, 1);
        psum += __shfl_xor_sync(0xffffffffu, psum, 2);
        l = l * alpha + psum;
        m = mNew;
        __syncwarp();
        for (int c = 0; c < MAXC; c++) {
            int d = t + 4 * c;
            if (d >= Dv) break;
            T a = acc[c] * alpha;
            for (int j = 0; j < BN; j++) a += sP[r * (BN + 1) + j] * sV[j * (Dv + 1) + d];
            acc[c] = a;
        }
    }
    i64 row = m0 + r;
    if (row < Lq) {
        T inv = l > 0 ? (T) 1 / l : (T) 0;
        for (int c = 0; c < MAXC; c++) {
            int d = t + 4 * c;
            if (d >= Dv) break;
            store<T>(op, off4(o, b, h, row, d), o.dtype, acc[c] * inv);
        }
        if (lse && t == 0) lse[(b * H + h) * Lq + row] = l > 0 ? (float) (m + ld_log(l)) : -LD_INF;
    }
}

// delta[b, h, i] = Σ_d dO·O  (the FlashAttention-2 backward's rowsum term). One warp per row: the lanes read
// consecutive elements of the row (coalesced whatever the row stride) and sum across the warp; launched with 32
// threads per row.
template <typename T> __device__ void attention_backward_delta_impl(const Layout& o, const Layout& g, const char* op,
        const char* gp, T* delta) {
    int H = (int) o.sizes[1], Dv = (int) o.sizes[3];
    i64 Lq = o.sizes[2], rows = o.sizes[0] * H * Lq;
    int lane = threadIdx.x & 31;
    i64 warps = ((i64) gridDim.x * blockDim.x) >> 5;
    for (i64 e = (blockIdx.x * (i64) blockDim.x + threadIdx.x) >> 5; e < rows; e += warps) {
        i64 i = e % Lq, h = (e / Lq) % H, b = e / (Lq * H);
        T s = 0;
        for (int d = lane; d < Dv; d += 32) s += load<T>(op, off4(o, b, h, i, d), o.dtype) * load<T>(gp, off4(g, b, h, i, d), g.dtype);
        s = warp_sum(s);
        if (lane == 0) delta[e] = s;
    }
}

// One block per (key tile, b·h): accumulates dK and dV for its BN keys over every query tile, and adds its share
// of dQ atomically into dqAcc (contiguous [B, H, Lq, D] in T, zeroed by the caller).
template <typename T> __device__ void attention_backward_impl(const Layout& q, const Layout& k, const Layout& v,
        const Layout& g, const Layout& dk, const Layout& dv, const char* qp, const char* kp, const char* vp,
        const char* gp, char* dkp, char* dvp, const float* lse, const T* delta, T* dqAcc, const int* kvLengths,
        double scaleD) {
    extern __shared__ __align__(16) unsigned char smem[];
    T scale = (T) scaleD;
    int H = (int) q.sizes[1], D = (int) q.sizes[3], Dv = (int) v.sizes[3];
    i64 Lq = q.sizes[2], Lk = k.sizes[2];
    i64 b = blockIdx.y / H, h = blockIdx.y % H, n0 = (i64) blockIdx.x * BN;
    i64 kvLen = kvLengths ? max((i64) 0, min((i64) kvLengths[b], Lk)) : Lk;
    i64 bh = b * H + h;
    T* sK = (T*) smem;
    T* sV = sK + BN * (D + 1);
    T* sQ = sV + BN * (Dv + 1);
    T* sG = sQ + BM * (D + 1);
    T* sP = sG + BM * (Dv + 1);
    T* sS = sP + BM * (BN + 1);
    T* sL = sS + BM * (BN + 1);
    T* sD = sL + BM;
    int j = threadIdx.x >> 2, t = threadIdx.x & 3;
    load_tile<T>(sK, k, kp, b, h, n0, BN, kvLen);
    load_tile<T>(sV, v, vp, b, h, n0, BN, kvLen);
    T accK[MAXC], accV[MAXC];
    for (int c = 0; c < MAXC; c++) accK[c] = accV[c] = 0;
    bool keyValid = n0 + j < kvLen;
    for (i64 m0 = 0; m0 < Lq && n0 < kvLen; m0 += BM) {
        __syncthreads();
        load_tile<T>(sQ, q, qp, b, h, m0, BM, Lq);
        load_tile<T>(sG, g, gp, b, h, m0, BM, Lq);
        for (int i = threadIdx.x; i < BM; i += NT) {
            bool ok = m0 + i < Lq;
            sL[i] = ok ? (T) lse[bh * Lq + m0 + i] : (T) 0;
            sD[i] = ok ? delta[bh * Lq + m0 + i] : (T) 0;
        }
        __syncthreads();
        for (int ii = 0; ii < BM / 4; ii++) {
            int i = t + 4 * ii;
            T p = 0, ds = 0;
            if (keyValid && m0 + i < Lq) {
                T dot = 0, dp = 0;
                for (int d = 0; d < D; d++) dot += sQ[i * (D + 1) + d] * sK[j * (D + 1) + d];
                for (int d = 0; d < Dv; d++) dp += sG[i * (Dv + 1) + d] * sV[j * (Dv + 1) + d];
                p = ld_exp(dot * scale - sL[i]);
                ds = p * (dp - sD[i]);
            }
            sP[i * (BN + 1) + j] = p;
            sS[i * (BN + 1) + j] = ds;
        }
        __syncthreads();
        for (int c = 0; c < MAXC; c++) {
            int d = t + 4 * c;
            if (d >= Dv && d >= D) break;
            T av = 0, ak = 0;
            for (int i = 0; i < BM; i++) {
                if (d < Dv) av += sP[i * (BN + 1) + j] * sG[i * (Dv + 1) + d];
                if (d < D) ak += sS[i * (BN + 1) + j] * sQ[i * (D + 1) + d];
            }
            accV[c] += av;
            accK[c] += ak * scale;
        }
        int i = threadIdx.x >> 2;
        if (m0 + i < Lq) {
            for (int c = 0; c < MAXC; c++) {
                int d = t + 4 * c;
                if (d >= D) break;
                T a = 0;
                for (int jj = 0; jj < BN; jj++) a += sS[i * (BN + 1) + jj] * sK[jj * (D + 1) + d];
                atomicAdd(dqAcc + (bh * Lq + m0 + i) * D + d, a * scale);
            }
        }
    }
    if (n0 + j < Lk) {
        for (int c = 0; c < MAXC; c++) {
            int d = t + 4 * c;
            if (d < D) store<T>(dkp, off4(dk, b, h, n0 + j, d), dk.dtype, keyValid ? accK[c] : (T) 0);
            if (d < Dv) store<T>(dvp, off4(dv, b, h, n0 + j, d), dv.dtype, keyValid ? accV[c] : (T) 0);
        }
    }
}

#define ATTENTION_KERNELS(T, SUFFIX) \
extern "C" __global__ void __launch_bounds__(NT) attention_forward_##SUFFIX(Layout q, Layout k, Layout v, Layout o, \
        const char* qp, const char* kp, const char* vp, char* op, float* lse, const int* kvLengths, double scale) { \
    attention_forward_impl<T>(q, k, v, o, qp, kp, vp, op, lse, kvLengths, scale, q, nullptr); } \
extern "C" __global__ void __launch_bounds__(NT) attention_forward_bias_##SUFFIX(Layout q, Layout k, Layout v, \
        Layout o, Layout bias, const char* qp, const char* kp, const char* vp, char* op, const char* bp, \
        const int* kvLengths, double scale) { \
    attention_forward_impl<T>(q, k, v, o, qp, kp, vp, op, nullptr, kvLengths, scale, bias, bp); } \
extern "C" __global__ void attention_backward_delta_##SUFFIX(Layout o, Layout g, const char* op, const char* gp, \
        T* delta) { attention_backward_delta_impl<T>(o, g, op, gp, delta); } \
extern "C" __global__ void __launch_bounds__(NT) attention_backward_##SUFFIX(Layout q, Layout k, Layout v, Layout g, \
        Layout dk, Layout dv, const char* qp, const char* kp, const char* vp, const char* gp, char* dkp, char* dvp, \
        const float* lse, const T* delta, T* dqAcc, const int* kvLengths, double scale) { \
    attention_backward_impl<T>(q, k, v, g, dk, dv, qp, kp, vp, gp, dkp, dvp, lse, delta, dqAcc, kvLengths, scale); }

ATTENTION_KERNELS(float, f32)
ATTENTION_KERNELS(double, f64)
