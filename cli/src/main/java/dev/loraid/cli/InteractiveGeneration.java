package dev.loraid.cli;

import dev.loraid.core.LoraidException;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.generate.GenerateResult;
import dev.loraid.core.generate.GenerationSession;
import dev.loraid.core.generate.NegativePrompts;
import dev.loraid.core.generate.OutputType;
import dev.loraid.core.generate.SamplePrompts;
import dev.loraid.core.generate.Umt5TextEncoder;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanVariant;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;

/** {@code generate --interactive}: the session loop, with the request rules of {@link GenerateCommand}. */
final class InteractiveGeneration {
    private InteractiveGeneration() {
    }

    /**
     * --interactive (upstream's): prompts read from standard input, one per line in --from_file's line syntax (the
     * prompt, then --w --h --f --d --s --l --fs --n --i --ei --cn), each generated as soon as it is read with the DiT,
     * the text encoder and the image encoders loaded once (the DiT with the first line); a bad line is reported and
     * skipped; the end of input ends the session.
     */
    static int run(CommandLine cl, GenerateRequest template, Long seedFlag, OutputType outputType, Path saveDir,
            int fps, PrintStream out, PrintStream err) throws Exception {
        WanVariant task = template.task();
        Path t5 = CliArgs.requiredPath(cl, "t5");
        Path tokenizer = CliArgs.requiredPath(cl, "tokenizer");
        String negativeDefault = cl.getOptionValue("negative_prompt", NegativePrompts.forTask(task));
        StartImages.OneFrameInput oneFrame = StartImages.oneFrame(cl, task);
        boolean conditioned = task.config().inDim() != task.config().outDim();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
                StandardCharsets.UTF_8));
        Path source = Path.of("stdin");
        GenerationSession session = null;
        try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"), "steps");
             Umt5TextEncoder encoder = Umt5TextEncoder.open(t5, tokenizer, task.config().textLen(), CliArgs.device(cl));
             StartImages.Encoders images = conditioned ? StartImages.encoders(cl, task) : null;
             GenerateCommand.Frames frames = GenerateCommand.Frames.open(cl, task, outputType)) {
            GenerateCommand.UPSTREAM.notices(cl).forEach(reporter::info);
            err.println("interactive: one prompt per line (--w --h --f --d --s --l --fs --n --i --ei --cn); end of input "
                    + "(Ctrl+D) ends");
            int lineNo = 0;
            for (String line = prompt(in, err); line != null; line = prompt(in, err)) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String where = "stdin:" + lineNo;
                try {
                    SamplePrompts.Entry e = SamplePrompts.parseLine(lineNo - 1, line.strip(), where);
                    GenerateCommand.refuseSampleOnlyOptions(e);
                    List<SamplePrompts.Entry> one = List.of(e);
                    List<String> starts = StartImages.paths(cl, task, source, one);
                    List<String> ends = StartImages.endPaths(cl, task, source, one, starts.size());
                    List<String> controls = StartImages.controlPaths(cl, task, source, one,
                            StartImages.controlOnly(task) ? 1 : starts.size());
                    String negative = e.options().getOrDefault("negative_prompt", negativeDefault);
                    Map<String, String> extra = new LinkedHashMap<>(template.extraMetadata());
                    GenerateCommand.putText(extra, e.prompt(), negative, t5);
                    GenerateRequest r = GenerateCommand.fromEntry(template, e, new Tensor[] {encoder.encode(e.prompt()), encoder.encode(negative)},
                            extra, seedFlag, x -> GenerateCommand.condition(x, images, starts, ends, controls, 0, where, oneFrame));
                    if (session == null) {
                        session = GenerationSession.open(r, reporter);
                    }
                    GenerateResult result = session.generate(r);
                    GenerateResult saved = cl.hasOption("no_metadata") ? new GenerateResult(result.latent(), result.seed(),
                            Map.of()) : result;
                    GenerateCommand.save(frames, saved, outputType, saveDir, fps).forEach(out::println);
                } catch (UsageException | LoraidException ex) {
                    // most messages name the line already (the prompt-file rules write it first)
                    err.println(ex.getMessage().startsWith(where) ? ex.getMessage() : where + ": " + ex.getMessage());
                }
            }
        } finally {
            if (session != null) {
                session.close();
            }
        }
        return 0;
    }

    /** The next line of standard input after a "> " prompt on stderr, or null at its end. */
    private static String prompt(BufferedReader in, PrintStream err) throws IOException {
        err.print("> ");
        err.flush();
        return in.readLine();
    }

}
