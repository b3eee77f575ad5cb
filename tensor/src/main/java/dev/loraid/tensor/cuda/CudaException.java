package dev.loraid.tensor.cuda;

/** A failed CUDA, NVRTC or cuBLASLt call, or a CUDA library that cannot be used; the message names the call. */
public class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}
