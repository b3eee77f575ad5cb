package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 16 §6: every numeric flag of {@code train}, {@code cache} and {@code generate} has a range (given in its
 * {@code --help} text); a value outside it, or not a number, is a usage error (exit 2) naming the flag and the value,
 * raised before any input is read (the inputs here do not exist) or any output folder is made.
 */
class NumericFlagRangesTest {
    private static final String MISSING = Path.of(System.getProperty("java.io.tmpdir"), "loraid-missing-input").toString();
    private static final String OUT = "{out}";

    private static final List<String> TRAIN = List.of("train", "--dit", MISSING, "--dataset_config", MISSING, "--output_dir",
            OUT, "--output_name", "t");
    private static final List<String> CACHE = List.of("cache", "--dataset_config", MISSING, "--vae", MISSING);
    private static final List<String> GENERATE = List.of("generate", "--task", "t2v-1.3B", "--dit", MISSING, "--text_embeds", MISSING,
            "--save_path", OUT);

    /** base command, the flag, its bad value(s), and flags the flag needs to be read at all. */
    private static Arguments bad(List<String> base, String flag, String value, String... companions) {
        return Arguments.of(base.getFirst() + " --" + flag + " " + value, base, flag, value, List.of(companions));
    }

    static Stream<Arguments> outOfRange() {
        String[] sampling = {"--sample_prompts", MISSING, "--t5", MISSING, "--tokenizer", MISSING};
        return Stream.of(
                bad(TRAIN, "network_dim", "0"), bad(TRAIN, "network_alpha", "-1"), bad(TRAIN, "network_dropout", "1"),
                bad(TRAIN, "scale_weight_norms", "0"), bad(TRAIN, "blocks_per_loraid", "0"), bad(TRAIN, "LORAID", "-1"),
                bad(TRAIN, "network_args", "rank_dropout=1.5"), bad(TRAIN, "network_args", "module_dropout=-0.1"),
                bad(TRAIN, "network_args", "loraplus_lr_ratio=0"), bad(TRAIN, "optimizer_args", "weight_decay=-1"),
                bad(TRAIN, "optimizer_args", "betas=(0.9,1.5)"), bad(TRAIN, "optimizer_args", "eps=0"),
                bad(TRAIN, "learning_rate", "0"), bad(TRAIN, "lr_warmup_steps", "-5"), bad(TRAIN, "lr_warmup_steps", "150%"),
                bad(TRAIN, "lr_decay_steps", "abc"), bad(TRAIN, "lr_scheduler_num_cycles", "0"), bad(TRAIN, "lr_scheduler_power", "-1"),
                bad(TRAIN, "lr_scheduler_min_lr_ratio", "1.5"), bad(TRAIN, "lr_scheduler_timescale", "0"),
                bad(TRAIN, "max_grad_norm", "-1"), bad(TRAIN, "gradient_accumulation_steps", "0"), bad(TRAIN, "max_train_steps", "0"),
                bad(TRAIN, "max_train_epochs", "0"), bad(TRAIN, "seed", "x"), bad(TRAIN, "seed", "-1"), bad(TRAIN, "discrete_flow_shift", "0"),
                bad(TRAIN, "sigmoid_scale", "Infinity"), bad(TRAIN, "logit_mean", "NaN"), bad(TRAIN, "logit_std", "0"),
                bad(TRAIN, "mode_scale", "Infinity"), bad(TRAIN, "min_timestep", "-1"), bad(TRAIN, "max_timestep", "1001"),
                bad(TRAIN, "num_timestep_buckets", "-1"), bad(TRAIN, "blocks_to_swap", "-1"), bad(TRAIN, "blocks_to_swap", "x"), bad(TRAIN, "guidance_scale", "x"),
                bad(TRAIN, "timestep_boundary", "1001", "--dit_high_noise", MISSING),
                bad(TRAIN, "validate_every_n_steps", "0", "--validation_dataset_config", MISSING),
                bad(TRAIN, "save_every_n_steps", "0"), bad(TRAIN, "save_every_n_epochs", "0"), bad(TRAIN, "save_last_n_steps", "0"),
                bad(TRAIN, "save_last_n_steps_state", "0"), bad(TRAIN, "save_last_n_epochs", "0"),
                bad(TRAIN, "save_last_n_epochs_state", "0"), bad(TRAIN, "sample_every_n_steps", "0", sampling),
                bad(TRAIN, "sample_every_n_epochs", "0", sampling), bad(TRAIN, "max_data_loader_n_workers", "-1"),
                bad(CACHE, "batch_size", "0"), bad(CACHE, "num_workers", "-1"), bad(CACHE, "text_len", "0"),
                bad(CACHE, "text_len", "70000"),
                bad(GENERATE, "infer_steps", "0"), bad(GENERATE, "infer_steps", "1001"), bad(GENERATE, "video_length", "0"),
                bad(GENERATE, "video_length", "6"), bad(GENERATE, "video_size", "-16"), bad(GENERATE, "video_size", "24"),
                bad(GENERATE, "flow_shift", "0"), bad(GENERATE, "guidance_scale", "-1"),
                bad(GENERATE, "guidance_scale_high_noise", "NaN"), bad(GENERATE, "timestep_boundary", "1001"),
                bad(GENERATE, "cfg_apply_ratio", "1.5"), bad(GENERATE, "slg_scale", "Infinity", "--slg_layers", "1"),
                bad(GENERATE, "slg_start", "-0.1", "--slg_layers", "1"), bad(GENERATE, "slg_end", "1.5", "--slg_layers", "1"),
                bad(GENERATE, "slg_layers", "-1"), bad(GENERATE, "fps", "0"), bad(GENERATE, "seed", "x"),
                bad(GENERATE, "blocks_per_loraid", "0"));
    }

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @MethodSource("outOfRange")
    void is_a_usage_error_naming_the_flag(String name, List<String> base, String flag, String value, List<String> companions) {
        Path out = dir.resolve("never-created");
        List<String> args = new ArrayList<>(base.stream().map(a -> a.equals(OUT) ? out.toString() : a).toList());
        args.addAll(companions);
        args.add("--" + flag);
        args.add(value);
        if (flag.equals("video_size")) {
            args.add("256"); // H W
        }
        CliRun r = run(args.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        // key=value items (--network_args, --optimizer_args): the key and the value
        int eq = value.indexOf('=');
        assertTrue(r.err().contains("--" + flag) && r.err().contains(value.substring(0, Math.max(eq, 0)))
                && r.err().contains(value.substring(eq + 1)), "the flag and its value are not named: " + r.err());
        assertFalse(r.err().contains("loraid-missing-input"), "an input was read first: " + r.err());
        assertFalse(Files.exists(out), "an output folder was made");
        OptionsCommand command = (OptionsCommand) Main.commands().stream().filter(c -> c.name().equals(base.getFirst())).findFirst().orElseThrow();
        String help = command.options().getOption(flag).getDescription();
        assertTrue(help.matches("(?s).*(≥|\\.\\.|\\[|> 0|finite).*"), "--" + flag + "'s help gives no range: " + help);
    }
}
