package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.DynamicQuant8;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch's default AdamW (spec training.md §3.1: betas (0.9, 0.999), eps 1e-8, weight decay 0.01, no amsgrad):
 * decoupled decay {@code p ← p·(1 − lr·wd)}, then the bias-corrected Adam step, one fused backend kernel per
 * parameter. The step count is kept per parameter, as PyTorch does. State slots: {@code exp_avg},
 * {@code exp_avg_sq} (F32, the parameter's shape) and {@code step} (I64 scalar).
 *
 * <p>{@link #eightBit} is bitsandbytes' {@code AdamW8bit} ({@code --optimizer_type AdamW8bit}, the same defaults): a
 * parameter of at least {@link #MIN_8BIT_SIZE} elements keeps its moments as 8-bit codes with one absmax per
 * {@link DynamicQuant8#BLOCK} elements ({@code Backend.adamw8bitUpdate}, bitsandbytes' blockwise step, which decays after
 * the Adam step), about a quarter of the fp32 moments' memory; there {@code exp_avg} and {@code exp_avg_sq} are U8 codes
 * and {@code exp_avg_absmax}, {@code exp_avg_sq_absmax} their F32 scales. A smaller parameter keeps fp32 moments, as
 * bitsandbytes does, and takes the step above (bitsandbytes' own 32-bit step, decaying after the Adam step, differs by
 * lr²·wd times the update).
 */
public final class AdamW extends SlottedOptimizer<AdamW.State> {
    /** Below this many elements {@link #eightBit} keeps fp32 moments (bitsandbytes' {@code min_8bit_size}). */
    public static final int MIN_8BIT_SIZE = 4096;

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final boolean eightBit;
    /** {@link #eightBit}'s signed and unsigned maps, once per device. */
    private final Map<Device, Tensor[]> maps = new HashMap<>();

    /** One parameter's moments: fp32, or 8-bit codes with their absmaxes (non-null only then). */
    static final class State extends Slots {
        final Tensor m;
        final Tensor v;
        final Tensor absM;
        final Tensor absV;

        State(Tensor m, Tensor v, Tensor absM, Tensor absV) {
            this.m = m;
            this.v = v;
            this.absM = absM;
            this.absV = absV;
        }

        boolean quantized() {
            return absM != null;
        }

        /** The saved slots by key suffix: the moments, and with 8-bit moments their scales. */
        @Override
        Map<String, Tensor> slots() {
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put(".exp_avg", m);
            out.put(".exp_avg_sq", v);
            if (quantized()) {
                out.put(".exp_avg_absmax", absM);
                out.put(".exp_avg_sq_absmax", absV);
            }
            return out;
        }
    }

    public AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        this(groups, beta1, beta2, eps, false);
    }

    private AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps, boolean eightBit) {
        super(groups);
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 || eps < 0) {
            throw new IllegalArgumentException("AdamW: betas must be in [0, 1) and eps ≥ 0, got (" + beta1 + ", "
                + beta2 + "), " + eps);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.eightBit = eightBit;
    }

    /** bitsandbytes' AdamW8bit: 8-bit moments for parameters of at least {@link #MIN_8BIT_SIZE} elements. */
    public static AdamW eightBit(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        return new AdamW(groups, beta1, beta2, eps, true);
    }

    /** One group with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public AdamW(Map<String, Parameter> params, double lr) {
        this(List.of(new ParamGroup("default", params, lr, 0.01)), 0.9, 0.999, 1e-8);
    }

    /** The bytes of moments this optimizer will keep for every parameter (fp32: 8 a value; 8-bit: 2, plus the scales). */
    public long stateBytes() {
        long bytes = 0;
        for (var e : allParams()) {
            long n = e.getValue().shape().numel();
            bytes += quantizes(e.getValue()) ? 2 * n + 2L * Float.BYTES * DynamicQuant8.blocks(n) : 2L * Float.BYTES * n;
        }
        return bytes;
    }

    /** Whether this optimizer keeps {@code p}'s moments in 8 bits. */
    public boolean quantizes(Parameter p) {
        return eightBit && p.shape().numel() >= MIN_8BIT_SIZE;
    }

    @Override
    void update(int group, ParamGroup g, Parameter p, State s, boolean first) {
        if (s.quantized()) {
            Tensor[] map = maps(p.data().device());
            p.data().backend().adamw8bitUpdate(p.data(), p.grad(), s.m, s.v, s.absM, s.absV, map[0], map[1],
                g.lr(), beta1, beta2, eps, g.weightDecay(), s.step);
        } else {
            p.data().backend().adamwUpdate(p.data(), p.grad(), s.m, s.v, g.lr(), beta1, beta2, eps,
                g.weightDecay(), s.step);
        }
    }

    @Override
    String displayName() {
        return eightBit ? "AdamW8bit" : "AdamW";
    }

    /**
     * Refuses, in one line, a state saved by the other kind of AdamW (fp32 moments where this one keeps 8-bit codes, or
     * the reverse) rather than listing every slot of every parameter.
     */
    @Override
    void checkSaved(StateSource source, String name, Parameter p) {
        String key = name + ".exp_avg";
        if (!source.keys().contains(key) || !source.get(key).shape().equals(p.shape())) {
            return;
        }
        DType saved = source.get(key).dtype();
        DType mine = quantizes(p) ? DType.U8 : DType.F32;
        if (saved != mine && (saved == DType.U8 || saved == DType.F32)) {
            throw new IllegalArgumentException("the state's moments are " + saved + " (" + key + ": saved by "
                + (saved == DType.U8 ? "AdamW8bit" : "AdamW") + ") but this run's optimizer keeps them " + mine + " ("
                + (eightBit ? "AdamW8bit" : "AdamW") + "): resume with the optimizer type the state was saved with");
        }
    }

    /** Zero moments on the parameter's device (8-bit: zero absmaxes, under which every code is 0). */
    @Override
    State fresh(Parameter p) {
        if (!quantizes(p)) {
            return new State(persistentZeros(p), persistentZeros(p), null, null);
        }
        Device d = p.data().device();
        long[] shape = p.shape().toArray();
        long blocks = DynamicQuant8.blocks(p.shape().numel());
        try (MemoryScope outside = MemoryScope.suspend()) {
            return new State(Tensor.zeros(d, DType.U8, shape), Tensor.zeros(d, DType.U8, shape),
                Tensor.zeros(d, DType.F32, blocks), Tensor.zeros(d, DType.F32, blocks));
        }
    }

    private Tensor[] maps(Device device) {
        return maps.computeIfAbsent(device, d -> {
            try (MemoryScope outside = MemoryScope.suspend()) {
                return new Tensor[] {Tensor.of(DynamicQuant8.signedMap(), 256).to(d),
                    Tensor.of(DynamicQuant8.unsignedMap(), 256).to(d)};
            }
        });
    }
}
