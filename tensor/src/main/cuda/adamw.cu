// One AdamW step in place (PyTorch's AdamW, as cpu/AdamW): param, grad, m, v F32 of one shape, any strides;
// each element computed in double and rounded once on store, like the CPU.
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
