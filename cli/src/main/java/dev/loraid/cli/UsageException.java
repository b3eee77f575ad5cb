package dev.loraid.cli;

/** A bad flag or argument: printed with the command's usage, exit code 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
