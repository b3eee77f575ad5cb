// Strided copy with dtype cast and broadcasting (stride 0), fill, and row gather. Integer-to-integer copies
// stay exact (I64 included); everything else goes through double, which holds every other dtype exactly.
#include "loraid_vec.cuh"

extern "C" __global__ void copy_cast(Layout src, Layout dst, const char* sp, char* dp, i64 n) {
    bool exactInts = is_int_type(src.dtype) && is_int_type(dst.dtype);
    for (i64 i = blockIdx.x * (i64) blockDim.x + threadIdx.x; i < n; i += (i64) gridDim.x * blockDim.x) {
        i64 so = elem_offset(src, i), d = elem_offset(dst, i);
        if (exactInts) store_int(dp, d, dst.dtype, load_int(sp, so, src.dtype));
        else store<double>(dp, d, dst.dtype, load<double>(sp, so, src.dtype));
    }
}

extern "C" __global__ void fill_value(Layout dst, char* dp, i64 n, double value, i64 intValue) {
    for (i64 i = blockIdx.x * (i64) blockDim.x + threadIdx.x; i < n; i += (i64) gridDim.x * blockDim.x) {
        i64 d = elem_offset(dst, i);
        if (dst.dtype == DT_I64) ((i64*) dp)[d] = intValue;
        else store<double>(dp, d, dst.dtype, value);
    }
}

// out[i, :] = table[ids[i], :]; table [V, D], ids [N], out [N, D]. A bad id is written to err[1] (err[0] = 1).
extern "C" __global__ void gather_rows(Layout table, Layout ids, Layout out, const char* tp, const char* ip,
                                       char* op, i64* err) {
    i64 V = table.sizes[0], D = table.sizes[1], N = out.sizes[0];
    bool exactInts = is_int_type(table.dtype) && is_int_type(out.dtype);
    for (i64 e = blockIdx.x * (i64) blockDim.x + threadIdx.x; e < N * D; e += (i64) gridDim.x * blockDim.x) {
        i64 r = e / D, c = e % D;
        i64 id = load_int(ip, r * ids.strides[0], ids.dtype);
        if (id < 0 || id >= V) {
            err[1] = id;
            err[0] = 1;
            continue;
        }
        i64 so = id * table.strides[0] + c * table.strides[1];
        i64 d = r * out.strides[0] + c * out.strides[1];
        if (exactInts) store_int(op, d, out.dtype, load_int(tp, so, table.dtype));
        else store<double>(op, d, out.dtype, load<double>(tp, so, table.dtype));
    }
}

// Contiguous output, operand per loraid_vec.cuh, source and destination among F32/BF16/F16 (through float, which
// holds each of them exactly, so the one rounding is the destination's).
extern "C" __global__ void copy_cast_vec(const char* sp, int sdt, int sm, char* dp, int ddt, i64 n, i64 rowLen) {
    VEC_GROUPS(e, n) {
        float v[VEC];
        load8(v, sp, sdt, sm, e, rowLen);
        store8(dp, ddt, e, v);
    }
}
