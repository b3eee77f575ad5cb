package dev.loraid.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A message about request parameters (issue 12: the library does not speak in command-line flags). Each parameter
 * is named by its API name, {@code Record.component} as a library caller sets it (e.g. {@code
 * TrainConfig.maxTrainSteps}); a front end that exposes the parameters under other names re-spells them when it shows
 * the message ({@link #render}: the CLI writes {@code --max_train_steps}). {@link #toString()} is the API spelling.
 */
public final class ParameterText {
    /** A parameter named in a message, by its API name ({@code TrainConfig.maxTrainSteps}). */
    public record Name(String api) {
        public Name {
            Objects.requireNonNull(api, "api");
        }

        @Override
        public String toString() {
            return api;
        }
    }

    private final List<Object> parts;

    private ParameterText(List<Object> parts) {
        this.parts = parts;
    }

    /** The parameter called {@code api} (e.g. {@code "TrainConfig.maxTrainSteps"}), to be used in {@link #named}. */
    public static Name param(String api) {
        return new Name(api);
    }

    /** A message of text pieces (anything, written with {@code String.valueOf}) and {@link Name}s. */
    public static ParameterText named(Object... parts) {
        List<Object> list = new ArrayList<>(parts.length);
        for (Object p : parts) {
            list.add(p instanceof Name ? p : String.valueOf(p));
        }
        return new ParameterText(List.copyOf(list));
    }

    /**
     * {@code message} with every occurrence of one of {@code names} (API names, e.g. the labels an
     * {@code OutputSet} was given) read as that parameter: for messages built by code that takes plain labels.
     */
    public static ParameterText naming(String message, Collection<String> names) {
        List<Object> parts = new ArrayList<>();
        int from = 0;
        while (true) {
            int at = -1;
            String hit = null;
            for (String n : names) {
                int i = message.indexOf(n, from);
                if (i >= 0 && (at < 0 || i < at || (i == at && n.length() > hit.length()))) {
                    at = i;
                    hit = n;
                }
            }
            if (hit == null) {
                break;
            }
            parts.add(message.substring(from, at));
            parts.add(new Name(hit));
            from = at + hit.length();
        }
        parts.add(message.substring(from));
        return new ParameterText(List.copyOf(parts));
    }

    /** The parameters this message names, in order. */
    public List<Name> parameters() {
        return parts.stream().filter(Name.class::isInstance).map(Name.class::cast).toList();
    }

    /** The message with every parameter spelled by {@code spelling} (given the API name). */
    public String render(UnaryOperator<String> spelling) {
        StringBuilder sb = new StringBuilder();
        for (Object p : parts) {
            sb.append(p instanceof Name n ? spelling.apply(n.api()) : (String) p);
        }
        return sb.toString();
    }

    /** The message in API words. */
    @Override
    public String toString() {
        return render(UnaryOperator.identity());
    }

    /** The {@link ParameterText} a throwable carries ({@link ParameterException}, {@link LoraidException}), or null. */
    public static ParameterText carriedBy(Throwable t) {
        return switch (t) {
            case ParameterException p -> p.text();
            case LoraidException l -> l.parameterText();
            default -> null;
        };
    }
}
