package dev.loraid.tensor.pth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.loraid.tensor.pth.PthFixtures.pth;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every hostile fixture of testdata/pth/README.md is refused with a {@link PthFormatException} that names the file
 * and what is wrong. Nothing runs: the unpickler has no way to call anything (see {@link TorchGlobal}).
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class PthHostileFilesTest {

    private static String refused(String file, String... expected) {
        PthFormatException e = assertThrows(PthFormatException.class, () -> PthFile.open(pth(file)).close());
        String m = e.getMessage();
        assertTrue(m.contains(file), "message names the file: " + m);
        for (String s : expected) {
            assertTrue(m.contains(s), "message contains '" + s + "': " + m);
        }
        return m;
    }

    @Test
    void osSystemIsAForbiddenGlobal() {
        refused("hostile_os_system.pth", "the global 'os.system' is not allowed", "data.pkl");
    }

    @Test
    void builtinsEvalIsAForbiddenGlobal() {
        refused("hostile_builtins_eval.pth", "the global 'builtins.eval' is not allowed");
    }

    @Test
    void subprocessPopenIsAForbiddenGlobal() {
        refused("hostile_subprocess_popen.pth", "the global 'subprocess.Popen' is not allowed");
    }

    @Test
    void stackGlobalPosixSystemIsAForbiddenGlobal() {
        refused("hostile_stack_global.pth", "the global 'posix.system' is not allowed");
    }

    @Test
    void tensorOutsideItsStorageIsRefused() {
        refused("hostile_tensor_out_of_bounds.pth", "tensor 'weight'", "lies outside its storage", "needs elements 2..9",
            "storage has 4");
    }

    @Test
    void storageNumelMismatchIsRefusedBeforeAnyAllocation() {
        refused("hostile_storage_numel_mismatch.pth", "storage '0' declares 1099511627776 F32 elements (4398046511104 bytes)",
            "holds 16 bytes", "does not match numel × element size");
    }

    @Test
    void truncatedPickleIsRefused() {
        refused("hostile_truncated_pickle.pth", "pickle is truncated", "no STOP");
    }

    @Test
    void deepNestingHitsTheDepthLimitWithoutOverflowingTheStack() {
        refused("hostile_deep_nesting.pth", "nested deeper than " + Unpickler.MAX_DEPTH + " levels");
    }
}
