// Elementwise unary (+ backward), binary, binary-with-scalar and axpby over strided, broadcast views. Every
// operand has the output's sizes (broadcast dims carry stride 0). The _f64 variants run when every tensor is F64;
// the _vec variants (fp32 math, loraid_vec.cuh) when the output is contiguous and the operands allow 16-byte access.
#include "loraid_vec.cuh"

// The order of dev.loraid.tensor.UnaryOp and BinaryOp (checked by CudaSourcesTest).
enum UnaryCode { U_NEG, U_ABS, U_EXP, U_LOG, U_SQRT, U_RSQRT, U_SQUARE, U_RECIPROCAL, U_SIN, U_COS, U_TANH,
                 U_SIGMOID, U_RELU, U_SILU, U_GELU_TANH, U_GELU_ERF };
enum BinaryCode { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_POW, B_GT };

#define GELU_C 0.7978845608028654

template <typename T> __device__ __forceinline__ T sigmoid(T x) { return (T) 1 / ((T) 1 + ld_exp(-x)); }

template <typename T> __device__ T unary_apply(int op, T x) {
    switch (op) {
        case U_NEG: return -x;
        case U_ABS: return x < 0 ? -x : x;
        case U_EXP: return ld_exp(x);
        case U_LOG: return ld_log(x);
        case U_SQRT: return ld_sqrt(x);
        case U_RSQRT: return (T) 1 / ld_sqrt(x);
        case U_SQUARE: return x * x;
        case U_RECIPROCAL: return (T) 1 / x;
        case U_SIN: return sin(x);
        case U_COS: return cos(x);
        case U_TANH: return ld_tanh(x);
        case U_SIGMOID: return sigmoid(x);
        case U_RELU: return x > 0 ? x : (T) 0;
        case U_SILU: return x * sigmoid(x);
        case U_GELU_ERF: return (T) 0.5 * x * erfc(-x * (T) M_SQRT1_2);
        default: return (T) 0.5 * x * ((T) 1 + ld_tanh((T) GELU_C * (x + (T) 0.044715 * x * x * x)));
    }
}

template <typename T> __device__ T unary_derivative(int op, T x) {
    switch (op) {
        case U_NEG: return (T) -1;
        case U_ABS: return x > 0 ? (T) 1 : x < 0 ? (T) -1 : (T) 0;
        case U_EXP: return ld_exp(x);
        case U_LOG: return (T) 1 / x;
        case U_SQRT: return (T) 0.5 / ld_sqrt(x);
        case U_RSQRT: return (T) -0.5 / (x * ld_sqrt(x));
        case U_SQUARE: return (T) 2 * x;
        case U_RECIPROCAL: return (T) -1 / (x * x);
        case U_SIN: return cos(x);
        case U_COS: return -sin(x);
        case U_TANH: { T t = ld_tanh(x); return (T) 1 - t * t; }
        case U_SIGMOID: { T s = sigmoid(x); return s * ((T) 1 - s); }
        case U_RELU: return x > 0 ? (T) 1 : (T) 0;
        case U_SILU: { T s = sigmoid(x); return s * ((T) 1 + x * ((T) 1 - s)); }
        case U_GELU_ERF: return (T) 0.5 * erfc(-x * (T) M_SQRT1_2) + x * ld_exp((T) -0.5 * x * x) * (T) 0.3989422804014327;
        default: {
            T u = (T) GELU_C * (x + (T) 0.044715 * x * x * x);
            T th = ld_tanh(u);
            T du = (T) GELU_C * ((T) 1 + (T) 3 * (T) 0.044715 * x * x);
            return (T) 0.5 * ((T) 1 + th) + (T) 0.5 * x * ((T) 1 - th * th) * du;
        }
    }
}

template <typename T> __device__ T binary_apply(int op, T a, T b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_MAX: return ld_max(a, b);
        case B_MIN: return ld_min(a, b);
        case B_POW: return pow(a, b);
        default: return a > b ? (T) 1 : (T) 0;
    }
}

#define GRID_STRIDE(i, n) for (i64 i = blockIdx.x * (i64) blockDim.x + threadIdx.x; i < (n); i += (i64) gridDim.x * blockDim.x)

template <typename T> __device__ void unary_impl(const Layout& x, const Layout& o, const char* xp, char* op, i64 n, int code) {
    GRID_STRIDE(i, n) {
        store<T>(op, elem_offset(o, i), o.dtype, unary_apply<T>(code, load<T>(xp, elem_offset(x, i), x.dtype)));
    }
}

template <typename T> __device__ void unary_backward_impl(const Layout& x, const Layout& g, const Layout& o,
        const char* xp, const char* gp, char* op, i64 n, int code) {
    GRID_STRIDE(i, n) {
        T xv = load<T>(xp, elem_offset(x, i), x.dtype);
        T gv = load<T>(gp, elem_offset(g, i), g.dtype);
        store<T>(op, elem_offset(o, i), o.dtype, gv * unary_derivative<T>(code, xv));
    }
}

template <typename T> __device__ void binary_impl(const Layout& a, const Layout& b, const Layout& o,
        const char* ap, const char* bp, char* op, i64 n, int code) {
    GRID_STRIDE(i, n) {
        T av = load<T>(ap, elem_offset(a, i), a.dtype);
        T bv = load<T>(bp, elem_offset(b, i), b.dtype);
        store<T>(op, elem_offset(o, i), o.dtype, binary_apply<T>(code, av, bv));
    }
}

template <typename T> __device__ void binary_scalar_impl(const Layout& a, const Layout& o, const char* ap, char* op,
        i64 n, int code, double scalar) {
    GRID_STRIDE(i, n) {
        store<T>(op, elem_offset(o, i), o.dtype, binary_apply<T>(code, load<T>(ap, elem_offset(a, i), a.dtype), (T) scalar));
    }
}

template <typename T> __device__ void add_scaled_impl(const Layout& a, const Layout& b, const Layout& o,
        const char* ap, const char* bp, char* op, i64 n, double alpha, double beta) {
    GRID_STRIDE(i, n) {
        T av = load<T>(ap, elem_offset(a, i), a.dtype);
        T bv = load<T>(bp, elem_offset(b, i), b.dtype);
        store<T>(op, elem_offset(o, i), o.dtype, av * (T) alpha + bv * (T) beta);
    }
}

#define ELEMENTWISE_KERNELS(T, SUFFIX) \
extern "C" __global__ void unary_##SUFFIX(Layout x, Layout o, const char* xp, char* op, i64 n, int code) { \
    unary_impl<T>(x, o, xp, op, n, code); } \
extern "C" __global__ void unary_backward_##SUFFIX(Layout x, Layout g, Layout o, const char* xp, const char* gp, \
        char* op, i64 n, int code) { unary_backward_impl<T>(x, g, o, xp, gp, op, n, code); } \
extern "C" __global__ void binary_##SUFFIX(Layout a, Layout b, Layout o, const char* ap, const char* bp, char* op, \
        i64 n, int code) { binary_impl<T>(a, b, o, ap, bp, op, n, code); } \
extern "C" __global__ void binary_scalar_##SUFFIX(Layout a, Layout o, const char* ap, char* op, i64 n, int code, \
        double scalar) { binary_scalar_impl<T>(a, o, ap, op, n, code, scalar); } \
extern "C" __global__ void add_scaled_##SUFFIX(Layout a, Layout b, Layout o, const char* ap, const char* bp, \
        char* op, i64 n, double alpha, double beta) { add_scaled_impl<T>(a, b, o, ap, bp, op, n, alpha, beta); }

ELEMENTWISE_KERNELS(float, f32)
ELEMENTWISE_KERNELS(double, f64)

// ---- vectorized fp32 variants: each operand is (pointer, dtype, VecMode); see loraid_vec.cuh ----

extern "C" __global__ void unary_vec(const char* xp, int xdt, int xm, char* op, int odt, i64 n, i64 rowLen, int code) {
    VEC_GROUPS(e, n) {
        float x[VEC];
        load8(x, xp, xdt, xm, e, rowLen);
#pragma unroll
        for (int j = 0; j < VEC; j++) x[j] = unary_apply<float>(code, x[j]);
        store8(op, odt, e, x);
    }
}

extern "C" __global__ void unary_backward_vec(const char* xp, int xdt, int xm, const char* gp, int gdt, int gm,
        char* op, int odt, i64 n, i64 rowLen, int code) {
    VEC_GROUPS(e, n) {
        float x[VEC], g[VEC];
        load8(x, xp, xdt, xm, e, rowLen);
        load8(g, gp, gdt, gm, e, rowLen);
#pragma unroll
        for (int j = 0; j < VEC; j++) x[j] = g[j] * unary_derivative<float>(code, x[j]);
        store8(op, odt, e, x);
    }
}

extern "C" __global__ void binary_vec(const char* ap, int adt, int am, const char* bp, int bdt, int bm, char* op,
        int odt, i64 n, i64 rowLen, int code) {
    VEC_GROUPS(e, n) {
        float a[VEC], b[VEC];
        load8(a, ap, adt, am, e, rowLen);
        load8(b, bp, bdt, bm, e, rowLen);
#pragma unroll
        for (int j = 0; j < VEC; j++) a[j] = binary_apply<float>(code, a[j], b[j]);
        store8(op, odt, e, a);
    }
}

extern "C" __global__ void binary_scalar_vec(const char* ap, int adt, int am, char* op, int odt, i64 n, i64 rowLen,
        int code, double scalar) {
    VEC_GROUPS(e, n) {
        float a[VEC];
        load8(a, ap, adt, am, e, rowLen);
#pragma unroll
        for (int j = 0; j < VEC; j++) a[j] = binary_apply<float>(code, a[j], (float) scalar);
        store8(op, odt, e, a);
    }
}

extern "C" __global__ void add_scaled_vec(const char* ap, int adt, int am, const char* bp, int bdt, int bm, char* op,
        int odt, i64 n, i64 rowLen, double alpha, double beta) {
    VEC_GROUPS(e, n) {
        float a[VEC], b[VEC];
        load8(a, ap, adt, am, e, rowLen);
        load8(b, bp, bdt, bm, e, rowLen);
#pragma unroll
        for (int j = 0; j < VEC; j++) a[j] = a[j] * (float) alpha + b[j] * (float) beta;
        store8(op, odt, e, a);
    }
}
