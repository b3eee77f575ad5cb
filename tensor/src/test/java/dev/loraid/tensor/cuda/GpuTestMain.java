package dev.loraid.tensor.cuda;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

/**
 * Runs the CUDA tests of this package where there is no Maven (the GPU machine, scripts/gpu-check.sh): one line per
 * test, then a summary. Exit code 0 only when nothing failed and — with {@code --require-gpu} — no test that needs
 * the device or its libraries was skipped (on the GPU machine such a skip means they were not found; the
 * no-GPU fallback tests skip there by design).
 */
public final class GpuTestMain {
    private GpuTestMain() {
    }

    public static void main(String[] args) {
        boolean requireGpu = java.util.List.of(args).contains("--require-gpu");
        PrintStream out = System.out;
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
                String name = id.getUniqueIdObject().getSegments().stream()
                    .filter(s -> s.getType().equals("class") || s.getType().equals("method"))
                    .map(s -> s.getValue().replace("dev.loraid.tensor.cuda.", ""))
                    .reduce((a, b) -> a + "." + b).orElse(id.getDisplayName());
                switch (result.getStatus()) {
                    case SUCCESSFUL -> {
                        passed.incrementAndGet();
                        out.println("PASS " + name);
                    }
                    case ABORTED -> {
                        skipped.incrementAndGet();
                        if (needsDevice(name)) {
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
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
            .selectors(selectPackage("dev.loraid.tensor.cuda")).build();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, listener);
        int total = passed.get() + failed.get() + skipped.get();
        out.printf("cuda tests: %d passed, %d failed, %d skipped%s%n", passed.get(), failed.get(), skipped.get(),
            total == 0 ? " (no tests found: is the tests jar on the class path?)" : "");
        if (requireGpu && deviceSkips.get() > 0) {
            out.println(deviceSkips.get() + " test(s) needing the GPU or its libraries were skipped: see SKIP lines");
        }
        System.exit(total == 0 || failed.get() > 0 || (requireGpu && deviceSkips.get() > 0) ? 1 : 0);
    }

    /** Tests that must run on the GPU machine: the golden GPU tests and the library bindings. */
    static boolean needsDevice(String testName) {
        String cls = testName.contains(".") ? testName.substring(0, testName.indexOf('.')) : testName;
        return cls.endsWith("GpuTest") || cls.equals("NvrtcCompileTest") || cls.equals("CuBlasLtBindingTest");
    }
}
