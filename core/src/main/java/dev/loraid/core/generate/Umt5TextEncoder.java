package dev.loraid.core.generate;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.text.Umt5Checkpoint;
import dev.loraid.wan.text.Umt5Encoder;
import dev.loraid.wan.text.Umt5Tokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The Wan text conditioning in Java (spec training.md §4.6): Wan's text cleaning, the UMT5 unigram tokenizer padded
 * to the DiT's {@code text_len}, the UMT5 encoder, the output trimmed to the prompt's real tokens, copied to the host.
 * The encoder's weights stay memory-mapped (or on {@code device}) until {@link #close()}.
 */
public final class Umt5TextEncoder implements TextEncoder {
    private final Umt5Tokenizer tokenizer;
    private final Umt5Checkpoint checkpoint;
    private final Umt5Encoder encoder;
    private final int textLen;

    private Umt5TextEncoder(Umt5Tokenizer tokenizer, Umt5Checkpoint checkpoint, Umt5Encoder encoder, int textLen) {
        this.tokenizer = tokenizer;
        this.checkpoint = checkpoint;
        this.encoder = encoder;
        this.textLen = textLen;
    }

    /**
     * @param t5        the UMT5 encoder weights (.safetensors or the official .pth)
     * @param tokenizer its {@code tokenizer.json} or {@code spiece.model} (or their folder)
     * @param textLen   the DiT's text length: prompts are padded or truncated to it (512 for Wan)
     */
    public static Umt5TextEncoder open(Path t5, Path tokenizer, int textLen, Device device) {
        Umt5Tokenizer tok;
        try {
            tok = Umt5Tokenizer.load(tokenizer);
        } catch (IOException e) {
            throw new LoraidException("cannot read the tokenizer " + tokenizer + ": " + e.getMessage(), e);
        }
        Umt5Checkpoint ck;
        try {
            ck = Umt5Checkpoint.open(t5);
        } catch (IOException e) {
            throw new LoraidException("cannot open the text encoder " + t5 + ": " + e.getMessage(), e);
        }
        try {
            if (tok.vocabSize() > ck.config().vocab()) {
                throw new LoraidException("the tokenizer " + tokenizer + " has " + tok.vocabSize() + " pieces but the text encoder " + t5
                        + " only " + ck.config().vocab() + " embeddings: they do not belong together");
            }
            return new Umt5TextEncoder(tok, ck, ck.model(device), textLen);
        } catch (RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    /** The prompt's embedding [L ≤ text_len, dim] in F32 on the host. */
    @Override
    public Tensor encode(String prompt) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor h = encoder.encode(tokenizer.encodeWan(prompt, textLen));
            return h.device().isCpu() ? h : h.to(Device.CPU);
        }
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
