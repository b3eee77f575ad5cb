package dev.loraid.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * Upstream's {@code --config_file} (musubi's read_config_from_file): a TOML file of the command's flags, its tables
 * flattened into one set of keys (a table only groups them), each key's value taken unless the command line gives
 * that flag itself; ".toml" is appended to a name without it. A boolean true is a flag given, false a flag left out;
 * an array gives each element as a value.
 */
final class ConfigFileArgs {
    static final String FLAG = "config_file";

    private ConfigFileArgs() {
    }

    /** {@code args} with the config file's flags put in front of them (and --config_file taken out), or as they are. */
    static String[] expand(String[] args, Options options) {
        int at = -1;
        String name = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--" + FLAG)) {
                if (i + 1 >= args.length) {
                    throw new UsageException("--" + FLAG + " needs a file");
                }
                at = i;
                name = args[i + 1];
            } else if (args[i].startsWith("--" + FLAG + "=")) {
                at = i;
                name = args[i].substring(FLAG.length() + 3);
            }
        }
        if (at < 0) {
            return args;
        }
        Path file = Path.of(name.endsWith(".toml") ? name : name + ".toml");
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--" + FLAG + " " + file + " not found");
        }
        JsonNode root;
        try {
            root = new TomlMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UsageException("--" + FLAG + " " + file + ": not TOML (" + e.getMessage() + ")");
        }
        Map<String, JsonNode> flat = new LinkedHashMap<>();
        root.fields().forEachRemaining(e -> {
            if (e.getValue().isObject()) {
                e.getValue().fields().forEachRemaining(inner -> {
                    if (inner.getValue().isObject()) {
                        throw new UsageException("--" + FLAG + " " + file + ": [" + e.getKey() + "." + inner.getKey()
                                + "] is a table inside a table; flags sit at the top or one table deep");
                    }
                    flat.put(inner.getKey(), inner.getValue());
                });
            } else {
                flat.put(e.getKey(), e.getValue());
            }
        });
        Set<String> given = new HashSet<>();
        for (String a : args) {
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                given.add(eq < 0 ? a.substring(2) : a.substring(2, eq));
            }
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : flat.entrySet()) {
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (given.contains(key) || key.equals(FLAG) || v.isNull()) {
                continue;
            }
            Option o = options.getOption(key);
            if (o == null) {
                throw new UsageException("--" + FLAG + " " + file + ": unknown flag '" + key + "'");
            }
            if (!o.hasArg()) {
                if (!v.isBoolean()) {
                    throw new UsageException("--" + FLAG + " " + file + ": " + key + " is a flag: give true or false, got " + v);
                }
                if (v.asBoolean()) {
                    out.add("--" + key);
                }
                continue;
            }
            out.add("--" + key);
            if (v.isArray()) {
                v.forEach(x -> out.add(x.asText()));
            } else {
                out.add(v.asText());
            }
        }
        for (int i = 0; i < args.length; i++) {
            if (i == at) {
                i += args[i].equals("--" + FLAG) ? 1 : 0;
                continue;
            }
            out.add(args[i]);
        }
        return out.toArray(String[]::new);
    }
}
