// AdamW steps in place: adamw_update (PyTorch's AdamW, as cpu/CpuAdamW: param, grad, m, v F32 of one shape, any strides,
// each element computed in double and rounded once on store, like the CPU) and adamw8bit_update (bitsandbytes' AdamW8bit).
#include "loraid_common.cuh"

extern "C" __global__ void adamw_update(Layout pl, Layout gl, Layout ml, Layout vl, float* p, const float* g, float* m,
        float* v, i64 n, double beta1, double beta2, double eps, double decay, double stepSize, double bc2Sqrt) {
    for (i64 i = blockIdx.x * (i64) blockDim.x + threadIdx.x; i < n; i += (i64) gridDim.x * blockDim.x) {
        i64 pi = elem_offset(pl, i), gi = elem_offset(gl, i), mi = elem_offset(ml, i), vi = elem_offset(vl, i);
        double gv = g[gi];
        double mv = beta1 * m[mi] + (1 - beta1) * gv;
        double vv = beta2 * v[vi] + (1 - beta2) * gv * gv;
        m[mi] = (float) mv;
        v[vi] = (float) vv;
        p[pi] = (float) (p[pi] * decay - stepSize * mv / (sqrt(vv) / bc2Sqrt + eps));
    }
}

// The code of the map value nearest x (bitsandbytes' quantize search, as DynamicQuant8.nearest): a binary search down to
// two neighbours, then the nearer of them.
__device__ int nearest_code(const float* map, float x, bool is_signed) {
    int pivot = 127, upper_pivot = 255, lower_pivot = 0;
    float lower = is_signed ? -1.0f : 0.0f, upper = 1.0f, val = map[pivot];
    for (int i = 64; i > 0; i >>= 1) {
        if (x > val) {
            lower_pivot = pivot;
            lower = val;
            pivot += i;
        } else {
            upper_pivot = pivot;
            upper = val;
            pivot -= i;
        }
        val = map[pivot];
    }
    if (x > val) return x > (upper + val) * 0.5f ? upper_pivot : pivot;
    return x < (lower + val) * 0.5f ? lower_pivot : pivot;
}

// One bitsandbytes AdamW8bit step in place (Backend.adamw8bitUpdate, as cpu/CpuAdamW8bit): 256 threads per block of
// 256 elements (DynamicQuant8.BLOCK), one element each, grid-stride over the blocks; contiguous tensors. stepSize =
// -lr·√(1 − β2^t)/(1 − β1^t) and correction2 = √(1 − β2^t) come from the host, computed in double.
extern "C" __global__ void adamw8bit_update(float* p, const float* g, unsigned char* m, unsigned char* v, float* absmax_m,
        float* absmax_v, const float* map_m, const float* map_v, i64 n, double beta1d, double beta2d, double epsd,
        double lrd, double weight_decayd, double step_sized, double correction2d) {
    __shared__ float code_m[256], code_v[256], scratch1[32], scratch2[32];
    const float beta1 = (float) beta1d, beta2 = (float) beta2d, eps = (float) epsd, lr = (float) lrd;
    const float weight_decay = (float) weight_decayd, step_size = (float) step_sized, correction2 = (float) correction2d;
    code_m[threadIdx.x] = map_m[threadIdx.x];
    code_v[threadIdx.x] = map_v[threadIdx.x];
    __syncthreads();
    const i64 blocks = (n + 255) / 256;
    for (i64 b = blockIdx.x; b < blocks; b += gridDim.x) {
        const i64 i = b * 256 + threadIdx.x;
        const bool in = i < n;
        const float gv = in ? g[i] : 0.0f;
        const bool finite = in && isfinite(gv);
        float s1 = 0.0f, s2 = 0.0f;
        if (finite) {
            s1 = code_m[m[i]] * absmax_m[b];
            s2 = code_v[v[i]] * absmax_v[b];
            s1 = s1 * beta1 + (1.0f - beta1) * gv;
            s2 = s2 * beta2 + (1.0f - beta2) * gv * gv;
        }
        // every thread has read the old absmaxes before the first barrier inside block_reduce
        const float max1 = block_reduce(fabsf(s1), 1, scratch1);
        const float max2 = block_reduce(fabsf(s2), 1, scratch2);
        if (finite) {
            float pv = p[i] + step_size * (s1 / (sqrtf(s2) + correction2 * eps));
            if (weight_decay > 0.0f) pv *= 1.0f - lr * weight_decay;
            p[i] = pv;
        }
        if (in) {
            int c1 = nearest_code(code_m, max1 > 0.0f ? s1 / max1 : 0.0f, true);
            // m keeps its sign (bitsandbytes); the sign bits compared as bits, since signbit() may return any nonzero
            if ((__float_as_uint(code_m[c1]) >> 31) != (__float_as_uint(s1) >> 31)) c1 += s1 > 0.0f ? 1 : -1;
            m[i] = (unsigned char) (c1 & 0xFF);
            v[i] = (unsigned char) nearest_code(code_v, max2 > 0.0f ? s2 / max2 : 0.0f, false);
        }
        if (threadIdx.x == 0) {
            absmax_m[b] = max1;
            absmax_v[b] = max2;
        }
    }
}
