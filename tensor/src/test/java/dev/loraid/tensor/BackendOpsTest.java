package dev.loraid.tensor;

import dev.loraid.tensor.cpu.TestTensors.Layout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The op table (style.md, ggml's test-backend-ops): every case of {@link OpCases} × its dtypes × every
 * {@link Layout}, on every backend, against the fp64 references. The CPU cases always run; the CUDA cases are the
 * same list with the device switched, tagged {@code gpu} (scripts/gpu-check.sh selects them by tag) and skipped
 * where there is no GPU. Reflection keeps {@link BackendOp} equal to {@link Backend}'s methods and makes every
 * op have a case, so a new op is tested on every backend the moment it exists.
 */
class BackendOpsTest {
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (OpCases.Case c : OpCases.CASES) {
            for (DType dt : new TreeSet<>(c.dtypes())) {
                for (Layout lay : Layout.values()) {
                    out.add(Arguments.of(c, dt, lay));
                }
            }
        }
        return out.stream();
    }

    private static void run(Target t, OpCases.Case c, DType dtype, Layout layout) {
        c.check().check(t, new Random(c.name().hashCode() * 31L + dtype.ordinal() * 7L + layout.ordinal()), dtype, layout);
    }

    @ParameterizedTest(name = "cpu {0} {1} {2}")
    @MethodSource("cases")
    void cpu(OpCases.Case c, DType dtype, Layout layout) {
        run(Target.cpu(), c, dtype, layout);
    }

    @Tag("gpu")
    @ParameterizedTest(name = "cuda {0} {1} {2}")
    @MethodSource("cases")
    void cuda(OpCases.Case c, DType dtype, Layout layout) {
        run(Target.cuda(), c, dtype, layout);
    }

    /** The catalogue lists every Backend method that takes tensors, with the same tensor arguments in order. */
    @Test
    void catalogueMatchesBackend() {
        TreeMap<String, List<String>> declared = new TreeMap<>();
        for (Method m : Backend.class.getMethods()) {
            List<String> tensors = Arrays.stream(m.getParameters()).filter(p -> p.getType() == Tensor.class)
                .map(java.lang.reflect.Parameter::getName).toList();
            if (!tensors.isEmpty()) {
                assertNull(declared.put(m.getName(), tensors), "overloaded Backend method " + m.getName()
                    + ": give BackendOp one constant per overload");
            }
        }
        TreeMap<String, List<String>> catalogued = Arrays.stream(BackendOp.values()).collect(Collectors.toMap(
            BackendOp::method, BackendOp::args, (x, y) -> {
                throw new AssertionError("method listed twice");
            }, TreeMap::new));
        assertEquals(declared.keySet(), catalogued.keySet(), "ops in Backend vs in BackendOp");
        for (var e : declared.entrySet()) {
            List<String> names = e.getValue();
            List<String> listed = catalogued.get(e.getKey());
            // parameter names are in the class file only with javac -parameters; the count holds either way
            if (names.stream().noneMatch(n -> n.matches("arg\\d+"))) {
                assertEquals(names, listed, "tensor arguments of Backend." + e.getKey());
            }
            assertEquals(names.size(), listed.size(), "tensor arguments of Backend." + e.getKey() + ": " + listed);
        }
    }

    /** Every catalogued op has at least one case, so no op escapes the table. */
    @Test
    void everyOpHasACase() {
        Set<BackendOp> cased = OpCases.CASES.stream().map(OpCases.Case::op).collect(Collectors.toSet());
        List<BackendOp> missing = Arrays.stream(BackendOp.values()).filter(op -> !cased.contains(op)).toList();
        assertTrue(missing.isEmpty(), "BackendOp constants without a case in OpCases: " + missing);
    }

    /** supports() answers from the contract: dtypes per argument and the device, naming what is wrong. */
    @Test
    void supportsFollowsTheContract() {
        Backend cpu = Backends.cpu();
        Tensor f32 = Tensor.zeros(DType.F32, 2, 3);
        Tensor bf16 = Tensor.zeros(DType.BF16, 2, 3);
        assertTrue(cpu.supports(BackendOp.UNARY, bf16, f32));
        assertTrue(cpu.supports(BackendOp.LAYER_NORM, f32, null, null, f32, null, null));
        assertFalse(cpu.supports(BackendOp.ADAMW_UPDATE, bf16, f32, f32, f32));
        assertEquals("adamwUpdate: param is BF16, expected one of [F32]",
            BackendOp.ADAMW_UPDATE.problem(Device.CPU, bf16, f32, f32, f32));
        assertFalse(cpu.supports(BackendOp.UNARY, Tensor.zeros(DType.I32, 2), f32));
        assertTrue(cpu.supports(BackendOp.COPY, Tensor.zeros(DType.I32, 2), f32));
        assertFalse(cpu.supports(BackendOp.SOFTMAX, f32));
        Tensor onGpu = new Tensor(new Storage(Device.cuda(0), java.lang.foreign.Arena.ofAuto().allocate(24), null),
            DType.F32, Shape.of(2, 3), new long[] {3, 1}, 0);
        assertEquals("softmax: x is on cuda:0, not cpu", BackendOp.SOFTMAX.problem(Device.CPU, onGpu, f32));
        assertNull(BackendOp.COPY.problem(Device.cuda(0), f32, onGpu), "a copy may have its one host side");
    }
}
