package dev.loraid.cli;

import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * The flags of an upstream script that a command takes only so that upstream's command lines carry over: those that
 * change nothing here (accepted, with a notice each), with or without a value, and those of features not built here
 * (refused with the reason, whatever values follow them), rather than an "unrecognized option".
 *
 * @param ignored          flags without a value that change nothing here
 * @param ignoredWithValue flags with values (one or more) that change nothing here
 * @param refused          flag → why it is refused
 */
record UpstreamFlags(List<String> ignored, List<String> ignoredWithValue, Map<String, String> refused) {
    UpstreamFlags {
        ignored = List.copyOf(ignored);
        ignoredWithValue = List.copyOf(ignoredWithValue);
        refused = Map.copyOf(refused);
    }

    void addTo(Options o) {
        ignored.forEach(f -> o.addOption(CliArgs.flag(f, "accepted for compatibility; no effect here")));
        ignoredWithValue.forEach(f -> o.addOption(Option.builder().longOpt(f).hasArgs().argName("V")
                .desc("accepted for compatibility; no effect here").build()));
        refused.keySet().stream().sorted().forEach(f -> o.addOption(Option.builder().longOpt(f).optionalArg(true).hasArgs()
                .desc("refused: " + refused.get(f)).build()));
    }

    /** Throws the usage error of the first refused flag given. */
    void refuse(CommandLine cl) {
        for (Option opt : cl.getOptions()) {
            String why = refused.get(opt.getLongOpt());
            if (why != null) {
                throw new UsageException("--" + opt.getLongOpt() + " is not supported: " + why);
            }
        }
    }

    /** A notice for each ignored flag given. */
    List<String> notices(CommandLine cl) {
        return java.util.stream.Stream.concat(ignored.stream(), ignoredWithValue.stream()).filter(cl::hasOption)
                .map(f -> "--" + f + " has no effect here (accepted for compatibility)").toList();
    }
}
