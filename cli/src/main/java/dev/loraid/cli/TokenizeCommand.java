package dev.loraid.cli;

import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.wan.text.TokenizedText;
import dev.loraid.wan.text.Umt5Tokenizer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code loraid tokenize --tokenizer FILE [--max_length N] [--json] [--no_clean] TEXT...}: the UMT5 tokenizer
 * (spec vae-t5.md §4) on each TEXT, after Wan's prompt cleaning unless {@code --no_clean}.
 */
final class TokenizeCommand extends OptionsCommand {
    @Override
    public String name() {
        return "tokenize";
    }

    @Override
    public String summary() {
        return "UMT5 token ids of prompts (tokenizer.json or spiece.model), as Wan's text encoder gets them";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(CliArgs.value("tokenizer", "FILE", "tokenizer.json, spiece.model, or a folder holding one"));
        o.addOption(CliArgs.value("max_length", "N", "pad or truncate to N tokens (default 512, Wan's text_len)"));
        o.addOption(CliArgs.flag("json", "print a JSON array, one object per TEXT: ids, pieces, padded_ids, padded_mask"));
        o.addOption(CliArgs.flag("no_clean", "tokenize the TEXTs as given, without Wan's cleaning (ftfy subset, "
                + "html unescape, whitespace collapse)"));
        return o;
    }

    @Override
    String usage() {
        return "loraid tokenize --tokenizer FILE [--max_length N] [--json] [--no_clean] TEXT...";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        List<String> texts = cl.getArgList();
        if (texts.isEmpty()) {
            throw new UsageException("give at least one TEXT to tokenize");
        }
        Umt5Tokenizer tok = Umt5Tokenizer.load(CliArgs.requiredPath(cl, "tokenizer"));
        Integer n = CliArgs.integer(cl, "max_length");
        int maxLength = n == null ? Umt5Tokenizer.WAN_TEXT_LEN : n;
        if (maxLength < 1) {
            throw new UsageException("--max_length " + maxLength + ": must be at least 1 (room for </s>)");
        }
        boolean clean = !cl.hasOption("no_clean");
        List<Object> results = new ArrayList<>();
        for (String text : texts) {
            TokenizedText t = clean ? tok.encodeWan(text, maxLength) : tok.encode(text, maxLength);
            if (cl.hasOption("json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("ids", boxed(t.ids()));
                o.put("pieces", t.pieces());
                o.put("padded_ids", boxed(t.paddedIds()));
                o.put("padded_mask", boxed(t.paddedMask()));
                results.add(o);
            } else {
                out.println("ids: " + Arrays.toString(t.ids()));
                out.println("pieces: " + t.pieces());
                out.println("seq_len: " + t.seqLen() + " of " + maxLength);
            }
        }
        if (cl.hasOption("json")) {
            out.println(JsonWriter.compact(results));
        }
        return 0;
    }

    private static List<Integer> boxed(int[] a) {
        return Arrays.stream(a).boxed().toList();
    }
}
