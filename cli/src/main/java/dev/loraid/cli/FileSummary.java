package dev.loraid.cli;

import java.util.List;
import java.util.Map;

/**
 * What {@code inspect} recognised a file to be (a LoRA, a Wan checkpoint, ...): a few lines for people and the
 * same facts as a JSON object under {@code kind} for machines.
 */
record FileSummary(String kind, List<String> lines, Map<String, Object> json) {
}
