package dev.loraid.tensor.cuda;

import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.UniqueId;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

/**
 * Runs the CUDA tests of this package where there is no Maven (the GPU machine, scripts/gpu-check.sh): one line per
 * test, then a summary. Further arguments name test classes of the modules above (e.g.
 * {@code dev.loraid.wan.WanForwardGoldenTest}) that follow {@code -Dloraid.test.device}: run with
 * {@code -Dloraid.test.device=cuda}, they check the whole model on the GPU. Exit code 0 only when nothing failed and
 * — with {@code --require-gpu} — no test that needs the device or its libraries was skipped (on the GPU machine such
 * a skip means they were not found; the no-GPU fallback tests skip there by design).
 *
 * With {@code --only}, just the named classes run (scripts/gpu-check.sh runs each GPU class in its own JVM, so that
 * a kernel fault that poisons the CUDA context, or a hang, costs one class's results, not all of them). With
 * {@code --tag T}, only tests tagged T run (JUnit {@code @Tag}; the GPU tests of the tensor module carry
 * {@code gpu}), searched for in the whole tensor test tree unless {@code --only}; {@code --list} prints the classes
 * holding such tests, one a line, and runs nothing (scripts/gpu-check.sh: {@code --list --tag gpu}).
 *
 * <pre>{@code GpuTestMain [--require-gpu] [--only] [--tag T] [--list] [test class …]}</pre>
 */
public final class GpuTestMain {
    private static final String PACKAGE = "dev.loraid.tensor.cuda";
    /** Where {@code --tag} looks for tagged tests: the whole tensor test tree (BackendOpsTest sits at its root). */
    private static final String TAGGED_ROOT = "dev.loraid.tensor";

    private GpuTestMain() {
    }

    public static void main(String[] args) {
        boolean requireGpu = List.of(args).contains("--require-gpu");
        boolean only = List.of(args).contains("--only");
        boolean list = List.of(args).contains("--list");
        int tagAt = List.of(args).indexOf("--tag");
        String tag = tagAt >= 0 && tagAt + 1 < args.length ? args[tagAt + 1] : null;
        Set<String> deviceFollowing = new java.util.HashSet<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") && i != tagAt + 1) {
                deviceFollowing.add(args[i]);
            }
        }
        PrintStream out = System.out;
        for (String c : deviceFollowing) {
            try {
                Class.forName(c, false, GpuTestMain.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                out.println("test class " + c + " is not on the class path (are the module's test classes carried?)");
                System.exit(1);
            }
        }
        AtomicInteger passed = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger skipped = new AtomicInteger();
        AtomicInteger deviceSkips = new AtomicInteger();
        TestExecutionListener listener = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                if (id.isTest()) {
                    skipped.incrementAndGet();
                    out.println("SKIP " + id.getLegacyReportingName() + ": " + reason);
                }
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest() && result.getStatus() != TestExecutionResult.Status.FAILED) {
                    return;
                }
                String cls = id.getUniqueIdObject().getSegments().stream().filter(s -> s.getType().equals("class"))
                    .map(UniqueId.Segment::getValue).findFirst().orElse("");
                String name = (cls.startsWith(PACKAGE + ".") ? cls.substring(PACKAGE.length() + 1)
                    : cls.replace("dev.loraid.", "")) + (id.isTest() ? "." + id.getLegacyReportingName() : "");
                switch (result.getStatus()) {
                    case SUCCESSFUL -> {
                        passed.incrementAndGet();
                        out.println("PASS " + name);
                    }
                    case ABORTED -> {
                        skipped.incrementAndGet();
                        if (tag != null || needsDevice(cls) || deviceFollowing.contains(cls)) {
                            deviceSkips.incrementAndGet();
                        }
                        out.println("SKIP " + name + ": " + result.getThrowable().map(Throwable::getMessage).orElse(""));
                    }
                    case FAILED -> {
                        failed.incrementAndGet();
                        out.println("FAIL " + name + ": " + result.getThrowable().map(Throwable::toString).orElse(""));
                        result.getThrowable().ifPresent(t -> t.printStackTrace(out));
                    }
                }
            }
        };
        List<DiscoverySelector> selectors = new ArrayList<>();
        if (!only) {
            selectors.add(selectPackage(tag != null ? TAGGED_ROOT : PACKAGE));
        }
        deviceFollowing.forEach(c -> selectors.add(selectClass(c)));
        LauncherDiscoveryRequestBuilder builder = LauncherDiscoveryRequestBuilder.request().selectors(selectors);
        if (tag != null) {
            builder.filters(TagFilter.includeTags(tag));
        }
        LauncherDiscoveryRequest request = builder.build();
        Launcher launcher = LauncherFactory.create();
        if (list) {
            TestPlan plan = launcher.discover(request);
            new java.util.TreeSet<>(plan.getRoots().stream().flatMap(r -> plan.getDescendants(r).stream())
                .flatMap(id -> id.getSource().stream()) // parameterized tests are containers until they run
                .filter(src -> src instanceof MethodSource).map(src -> ((MethodSource) src).getClassName()).toList())
                .forEach(out::println);
            System.exit(0);
        }
        launcher.execute(request, listener);
        int total = passed.get() + failed.get() + skipped.get();
        out.printf("cuda tests: %d passed, %d failed, %d skipped%s%n", passed.get(), failed.get(), skipped.get(),
            total == 0 ? " (no tests found: is the tests jar on the class path?)" : "");
        if (requireGpu && deviceSkips.get() > 0) {
            out.println(deviceSkips.get() + " test(s) needing the GPU or its libraries were skipped: see SKIP lines");
        }
        System.exit(total == 0 || failed.get() > 0 || (requireGpu && deviceSkips.get() > 0) ? 1 : 0);
    }

    /** Test classes of this package that must run on the GPU machine: the golden GPU tests and the library bindings. */
    static boolean needsDevice(String className) {
        String cls = className.substring(className.lastIndexOf('.') + 1);
        return cls.endsWith("GpuTest") || cls.equals("NvrtcCompileTest") || cls.equals("CuBlasLtBindingTest");
    }
}
