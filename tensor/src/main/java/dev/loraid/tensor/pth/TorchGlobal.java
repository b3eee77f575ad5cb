package dev.loraid.tensor.pth;

import dev.loraid.tensor.DType;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The allow-list: the only globals a {@code .pth} pickle may name. Each is a tag the unpickler interprets itself;
 * nothing is imported or called. Any other global is refused by name when the pickle names it (before any REDUCE).
 *
 * <p>Beyond what the fixtures use ({@code OrderedDict}, {@code _rebuild_tensor_v2} and six storage types), the list
 * holds the other storage types that map to a loraid {@link DType} (they are inert type tags, like the six), and
 * {@code torch._utils._rebuild_parameter}: a checkpoint of {@code nn.Parameter}s ({@code state_dict(keep_vars=True)},
 * or a dict of parameters) wraps each tensor in it; it only marks a tensor as a parameter, and torch's own
 * {@code weights_only} loader allows it.
 */
enum TorchGlobal {
    ORDERED_DICT("collections", "OrderedDict", null),
    REBUILD_TENSOR_V2("torch._utils", "_rebuild_tensor_v2", null),
    REBUILD_PARAMETER("torch._utils", "_rebuild_parameter", null),
    FLOAT_STORAGE("torch", "FloatStorage", DType.F32),
    DOUBLE_STORAGE("torch", "DoubleStorage", DType.F64),
    HALF_STORAGE("torch", "HalfStorage", DType.F16),
    BFLOAT16_STORAGE("torch", "BFloat16Storage", DType.BF16),
    LONG_STORAGE("torch", "LongStorage", DType.I64),
    INT_STORAGE("torch", "IntStorage", DType.I32),
    SHORT_STORAGE("torch", "ShortStorage", DType.I16),
    CHAR_STORAGE("torch", "CharStorage", DType.I8),
    BYTE_STORAGE("torch", "ByteStorage", DType.U8),
    BOOL_STORAGE("torch", "BoolStorage", DType.BOOL);

    private final String module;
    private final String name;
    private final DType storageType;

    TorchGlobal(String module, String name, DType storageType) {
        this.module = module;
        this.name = name;
        this.storageType = storageType;
    }

    String qualifiedName() {
        return module + "." + name;
    }

    /** The element type if this is a {@code torch.<Type>Storage}, else null. */
    DType storageType() {
        return storageType;
    }

    /** The allowed global {@code module.name}, or null if it is not on the list. */
    static TorchGlobal find(String module, String name) {
        for (TorchGlobal g : values()) {
            if (g.module.equals(module) && g.name.equals(name)) {
                return g;
            }
        }
        return null;
    }

    /** The allow-list, for messages. */
    static String allowed() {
        return Arrays.stream(values()).map(TorchGlobal::qualifiedName).collect(Collectors.joining(", "));
    }
}
