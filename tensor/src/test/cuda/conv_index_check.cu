// Host check of conv.cu's index arithmetic (conv_source, the function both conv kernels decode their element with),
// built with `nvcc` as a host program and run by CudaConvIndexTest, no GPU needed. For a set of geometries and tile
// sizes it runs the implicit GEMM as CudaConv does — per tile of output rows: pack cols [K, P] through conv_source,
// out[O, P] = w2 · cols, dW += g · colsᵀ, dCols = w2ᵀ · g scattered back through conv_source — in double on the host,
// and compares forward, dx and dW with a direct 7-loop convolution written independently here. Prints one line per
// case and "conv index check: N cases, all OK" (exit 0), or the first mismatch (exit 1).
#include "conv.cu"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

struct Case {
    const char* name;
    int N, I, T, H, W, O, kt, kh, kw, st, sh, sw, front, back, top, bottom, left, right;
};

static double rnd(unsigned& s) {
    s = s * 1664525u + 1013904223u;
    return ((s >> 8) & 0xffff) / 32768.0 - 1.0;
}

static int check(const Case& c, int rowsPerTile) {
    int To = (c.T + c.front + c.back - c.kt) / c.st + 1;
    int Ho = (c.H + c.top + c.bottom - c.kh) / c.sh + 1;
    int Wo = (c.W + c.left + c.right - c.kw) / c.sw + 1;
    int K = c.I * c.kt * c.kh * c.kw;
    ConvGeom g = {c.I, c.T, c.H, c.W, c.kt, c.kh, c.kw, c.st, c.sh, c.sw, c.front, c.top, c.left, To, Ho, Wo};
    size_t xn = (size_t) c.N * c.I * c.T * c.H * c.W, wn = (size_t) c.O * K, on = (size_t) c.N * c.O * To * Ho * Wo;
    std::vector<double> x(xn), w(wn), gOut(on);
    unsigned seed = 12345u + rowsPerTile;
    for (auto& v : x) v = rnd(seed);
    for (auto& v : w) v = rnd(seed);
    for (auto& v : gOut) v = rnd(seed);
    auto X = [&](int n, int i, int t, int h, int ww) -> size_t { return (((size_t) n * c.I + i) * c.T + t) * c.H * c.W + (size_t) h * c.W + ww; };
    auto Wt = [&](int o, int i, int a, int b, int d) -> size_t { return (((size_t) o * c.I + i) * c.kt + a) * c.kh * c.kw + (size_t) b * c.kw + d; };
    auto Y = [&](int n, int o, int t, int h, int ww) -> size_t { return (((size_t) n * c.O + o) * To + t) * Ho * Wo + (size_t) h * Wo + ww; };
    // direct convolution and its gradients
    std::vector<double> outRef(on, 0), dxRef(xn, 0), dwRef(wn, 0);
    for (int n = 0; n < c.N; n++) for (int o = 0; o < c.O; o++) for (int t = 0; t < To; t++) for (int h = 0; h < Ho; h++)
    for (int ww = 0; ww < Wo; ww++) for (int i = 0; i < c.I; i++) for (int a = 0; a < c.kt; a++) for (int b = 0; b < c.kh; b++)
    for (int d = 0; d < c.kw; d++) {
        int ti = t * c.st + a - c.front, hi = h * c.sh + b - c.top, wi = ww * c.sw + d - c.left;
        if (ti < 0 || ti >= c.T || hi < 0 || hi >= c.H || wi < 0 || wi >= c.W) continue;
        outRef[Y(n, o, t, h, ww)] += w[Wt(o, i, a, b, d)] * x[X(n, i, ti, hi, wi)];
        dxRef[X(n, i, ti, hi, wi)] += w[Wt(o, i, a, b, d)] * gOut[Y(n, o, t, h, ww)];
        dwRef[Wt(o, i, a, b, d)] += x[X(n, i, ti, hi, wi)] * gOut[Y(n, o, t, h, ww)];
    }
    // the tiled implicit GEMM through conv_source
    std::vector<double> out(on, 0), dx(xn, 0), dw(wn, 0);
    long rows = (long) To * Ho;
    for (int n = 0; n < c.N; n++) {
        for (long r0 = 0; r0 < rows; r0 += rowsPerTile) {
            long P = (std::min<long>(rowsPerTile, rows - r0)) * Wo;
            std::vector<double> cols((size_t) K * P), dCols((size_t) K * P, 0);
            for (long e = 0; e < (long) K * P; e++) {
                int i, ti, hi, wi;
                cols[e] = conv_source(g, e, P, r0, i, ti, hi, wi) ? x[X(n, i, ti, hi, wi)] : 0;
            }
            // the output position of tile column p: row r0 + p / Wo, column p % Wo (ConvGeometry.tile's view)
            for (int o = 0; o < c.O; o++) for (long p = 0; p < P; p++) {
                long row = r0 + p / Wo;
                size_t y = Y(n, o, (int) (row / Ho), (int) (row % Ho), (int) (p % Wo));
                double s = 0;
                for (int k = 0; k < K; k++) {
                    s += w[(size_t) o * K + k] * cols[(size_t) k * P + p];
                    dw[(size_t) o * K + k] += gOut[y] * cols[(size_t) k * P + p];
                    dCols[(size_t) k * P + p] += w[(size_t) o * K + k] * gOut[y];
                }
                out[y] = s;
            }
            for (long e = 0; e < (long) K * P; e++) {
                int i, ti, hi, wi;
                if (conv_source(g, e, P, r0, i, ti, hi, wi)) dx[X(n, i, ti, hi, wi)] += dCols[e];
            }
        }
    }
    const char* names[] = {"out", "dx", "dW"};
    std::vector<double>* got[] = {&out, &dx, &dw};
    std::vector<double>* want[] = {&outRef, &dxRef, &dwRef};
    for (int q = 0; q < 3; q++) {
        double maxErr = 0;
        for (size_t e = 0; e < want[q]->size(); e++) {
            double err = std::fabs((*got[q])[e] - (*want[q])[e]);
            if (err > 1e-9 * (1 + std::fabs((*want[q])[e]))) {
                std::printf("MISMATCH %s rowsPerTile=%d %s[%zu]: tiled %.17g, direct %.17g\n", c.name, rowsPerTile,
                            names[q], e, (*got[q])[e], (*want[q])[e]);
                return 1;
            }
            maxErr = std::fmax(maxErr, err);
        }
        std::printf("%s rowsPerTile=%d %s: %zu values, max abs difference %.3g\n", c.name, rowsPerTile, names[q],
                    want[q]->size(), maxErr);
    }
    return 0;
}

int main() {
    // the op test's shapes (OpCases) plus a wide stride-3 one and a 2-D one with one-sided padding
    const Case cases[] = {
        {"causal", 2, 3, 4, 5, 6, 4, 3, 2, 3, 1, 2, 1, 2, 0, 1, 0, 1, 1},
        {"strided", 1, 5, 5, 7, 8, 3, 3, 3, 3, 2, 2, 2, 0, 0, 0, 1, 0, 1},
        {"1x1", 1, 6, 2, 3, 9, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
        {"2-D", 2, 3, 1, 7, 5, 2, 1, 3, 3, 1, 2, 1, 0, 0, 1, 1, 0, 2},
        {"stride 3 window 2", 1, 2, 7, 9, 11, 3, 2, 2, 2, 3, 3, 3, 1, 2, 2, 0, 1, 1},
    };
    int count = 0;
    for (const Case& c : cases) {
        int To = (c.T + c.front + c.back - c.kt) / c.st + 1, Ho = (c.H + c.top + c.bottom - c.kh) / c.sh + 1;
        // one row per tile (tiles crossing frames), a remainder tile, and one tile for everything
        for (int rpt : {1, 3, To * Ho}) {
            if (check(c, rpt) != 0) return 1;
            count++;
        }
    }
    std::printf("conv index check: %d cases, all OK\n", count);
    return 0;
}
