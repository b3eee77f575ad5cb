package dev.loraid.bench.harness;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FiguresTest {
    @Test
    void headlineLineCarriesRatioAndPeakFraction() {
        assertEquals("gemm 1024x1536x1536 f32: loraid 150.0 GFLOP/s, pytorch 120.0 GFLOP/s, peak_fraction=0.75 ratio=1.25",
            Figures.line("gemm 1024x1536x1536 f32", 150, 120, 200));
    }

    @Test
    void missingFiguresPrintAsNotAvailable() {
        assertEquals("attention 4096x12x128 f32: loraid n/a GFLOP/s, pytorch 16.0 GFLOP/s, peak_fraction=n/a ratio=n/a",
            Figures.line("attention 4096x12x128 f32", Double.NaN, 16, 200));
    }

    @Test
    void gflopsFromFlopsAndSeconds() {
        assertEquals(4.83, Figures.gflops(2.0 * 1024 * 1536 * 1536, 1.0), 0.01);
    }
}
