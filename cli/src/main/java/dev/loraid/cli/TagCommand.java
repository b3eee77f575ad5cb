package dev.loraid.cli;

import dev.loraid.core.LoraidException;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraInputs;
import dev.loraid.core.plan.BlockCount;
import dev.loraid.core.lora.LoraidTag;
import dev.loraid.tensor.safetensors.OutputSet;
import java.io.PrintStream;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/** {@code loraid tag FILE --LORAID n --blocks_per_loraid P --num_blocks B -o OUT}: adds LORAID metadata (spec §6.3). */
final class TagCommand extends OptionsCommand {
    @Override
    public String name() {
        return "tag";
    }

    @Override
    public String summary() {
        return "add LORAID metadata to a LoRA whose modules lie inside that ID's blocks";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(CliArgs.value("LORAID", "ID", "the LORAID to record"));
        o.addOption(CliArgs.value("loraid", "ID", "alias of --LORAID"));
        o.addOption(CliArgs.value("blocks_per_loraid", "P", "blocks per LORAID (default 12)"));
        o.addOption(CliArgs.value("num_blocks", "B", "block count of the model the LoRA was trained on"));
        o.addOption(org.apache.commons.cli.Option.builder("o").longOpt("output").hasArg().argName("FILE").desc("tagged copy").build());
        o.addOption(CliArgs.allowNonFinite());
        return o;
    }

    @Override
    String usage() {
        return "loraid tag FILE --LORAID n [--blocks_per_loraid P] --num_blocks B -o OUT";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        if (cl.getArgList().size() != 1) {
            throw new UsageException("give exactly one FILE to tag");
        }
        CliArgs.either(cl, "LORAID", "loraid");
        Integer id = cl.hasOption("LORAID") ? CliArgs.integer(cl, "LORAID") : CliArgs.integer(cl, "loraid");
        Integer blocks = CliArgs.integer(cl, "num_blocks", 1, BlockCount.MAX_BLOCKS);
        if (id == null || blocks == null) {
            throw new UsageException("--LORAID and --num_blocks are required");
        }
        Integer p = CliArgs.integer(cl, "blocks_per_loraid", 1, BlockCount.MAX_BLOCKS);
        Path in = Path.of(cl.getArgList().getFirst());
        Path output = CliArgs.requiredPath(cl, "output");
        if (in.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize())) {
            throw new LoraidException("-o " + output + " is the input; write the tagged copy to another file");
        }
        OutputSet.checkFolders(java.util.Map.of("-o", output)); // before the input is read
        try (CliReporter reporter = new CliReporter(err, false)) {
            LoraFile lora = LoraFiles.read(in);
            LoraInputs.check(lora, reporter);
            LoraFile tagged = LoraidTag.tag(lora, id, p == null ? 12 : p, blocks, reporter);
            LoraFiles.write(tagged, output);
            reporter.info("wrote " + output + " with ss_loraid=" + id);
        }
        return 0;
    }
}
