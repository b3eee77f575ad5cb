package dev.loraid.tensor.pth;

import java.io.IOException;

/**
 * A {@code torch.save} file that this reader refuses: malformed, truncated, or asking for something a restricted
 * unpickler does not do (a global outside the allow-list, an unknown opcode, a tensor outside its storage). The
 * message names the file, the record or tensor at fault and what was expected. An {@link IOException}, so callers
 * handle unreadable, malformed and hostile checkpoints in one place, as for safetensors.
 */
public final class PthFormatException extends IOException {
    public PthFormatException(String source, String problem) {
        super(source + ": " + problem);
    }

    public PthFormatException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
    }
}
