package dev.loraid.bench.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.loraid.bench.harness.TorchScriptArchive;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;

/**
 * PyTorch's fused {@code torch.nn.functional.scaled_dot_product_attention} (on CPU, ATen's flash kernel
 * {@code _scaled_dot_product_flash_attention_for_cpu} when the inputs allow it), which DJL 0.36 does not expose:
 * a TorchScript module written here as source ({@link TorchScriptArchive}) and loaded with
 * {@code torch::jit::load} through DJL. {@code backend} reports the kernel ATen's dispatcher picks for given
 * operands ({@code _fused_sdp_choice}: 0 math, 1 flash attention).
 */
final class DjlSdpa implements AutoCloseable {
    static final String SOURCE = """
        class Sdpa(Module):
          training : bool
          def forward(self: __torch__.Sdpa, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
            return torch.scaled_dot_product_attention(q, k, v)
          def backend(self: __torch__.Sdpa, q: Tensor, k: Tensor, v: Tensor) -> int:
            return torch._fused_sdp_choice(q, k, v)
        """;

    private final PtNDManager manager;
    private final PtSymbolBlock module;

    DjlSdpa(NDManager parent) {
        manager = (PtNDManager) parent.newSubManager();
        try {
            module = JniUtils.loadModule(manager,
                new ByteArrayInputStream(TorchScriptArchive.module("Sdpa", SOURCE)), false, false);
        } catch (IOException e) {
            throw new UncheckedIOException("loading the TorchScript SDPA module", e);
        }
    }

    /** softmax(q·kᵀ/√D)·v for [B, H, L, D] operands (any strides); the result is owned by {@code owner}. */
    NDArray attend(NDArray q, NDArray k, NDArray v, NDManager owner) {
        try (IValue iq = IValue.from((PtNDArray) q); IValue ik = IValue.from((PtNDArray) k);
             IValue iv = IValue.from((PtNDArray) v); IValue out = module.forward(iq, ik, iv)) {
            return out.toTensor((PtNDManager) owner);
        }
    }

    /** Logs which of ATen's SDPA kernels these operands get; the fused anchor is only honest if it is flash (1). */
    void logBackend(NDArray q, NDArray k, NDArray v, PrintStream log) {
        try (IValue iq = IValue.from((PtNDArray) q); IValue ik = IValue.from((PtNDArray) k);
             IValue iv = IValue.from((PtNDArray) v); IValue choice = IValueUtils.runMethod(module, "backend", iq, ik, iv)) {
            long c = choice.toLong();
            log.printf("pytorch scaled_dot_product_attention %s: ATen picks kernel %d (%s)%n", q.getShape(), c,
                c == 1 ? "flash attention, fused" : c == 0 ? "math: the composed ops, NOT fused" : "other");
        }
    }

    /** [1, tokens, heads, headDim] memory seen as [1, heads, tokens, headDim], the layout of our benchmark. */
    static NDArray headsView(NDManager m, float[] values, int tokens, int heads, int headDim) {
        NDArray a = values == null ? m.randomNormal(new Shape(1, tokens, heads, headDim))
            : m.create(values, new Shape(1, tokens, heads, headDim));
        return a.transpose(0, 2, 1, 3);
    }

    @Override
    public void close() {
        module.close();
        manager.close();
    }
}
