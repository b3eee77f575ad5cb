// One AdamW step in place (PyTorch's AdamW): param, grad, m, v F32 of one shape, any strides.
#include "loraid_common.cuh"

extern "C" __global__ void adamw_update(Layout pl, Layout gl, Layout ml, Layout vl, float* p, const float* g, float* m,
        float* v, i64 n, float lr, float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2Sqrt) {
    for (i64 i = blockIdx.x * (i64) blockDim.x + threadIdx.x; i < n; i += (i64) gridDim.x * blockDim.x) {
        i64 pi = elem_offset(pl, i), gi = elem_offset(gl, i), mi = elem_offset(ml, i), vi = elem_offset(vl, i);
        float gv = g[gi];
        float mv = beta1 * m[mi] + (1.0f - beta1) * gv;
        float vv = beta2 * v[vi] + (1.0f - beta2) * gv * gv;
        m[mi] = mv;
        v[vi] = vv;
        float pv = p[pi] * (1.0f - lr * weightDecay);
        p[pi] = pv - (lr / bc1) * mv / (sqrtf(vv) / bc2Sqrt + eps);
    }
}
