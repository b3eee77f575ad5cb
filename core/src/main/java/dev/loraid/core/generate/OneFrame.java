package dev.loraid.core.generate;

import dev.loraid.core.LoraidException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One-frame inference (musubi docs/wan_1f.md, {@code --one_frame_inference}): the control images' latent frames sit at
 * RoPE positions {@code controlIndices}, the generated frame at {@code targetIndex}; the DiT sees the frames in position
 * order and the generated one is taken out of the result.
 *
 * @param targetIndex    the generated frame's RoPE position (upstream's default 0; ≥ 1 in practice)
 * @param controlIndices the control images' RoPE positions; the images fill them in ascending order, whatever the order
 *                       given (upstream walks the sorted positions, taking the next control image at each)
 */
public record OneFrame(int targetIndex, List<Integer> controlIndices) {
    /** FramePack's one-frame options, which upstream's Wan parser passes over. */
    private static final List<String> FRAMEPACK_ONLY = List.of("no_2x", "no_4x", "no_post");

    public OneFrame {
        controlIndices = List.copyOf(controlIndices);
        for (int i : java.util.stream.Stream.concat(controlIndices.stream(), java.util.stream.Stream.of(targetIndex)).toList()) {
            if (i < 0 || i >= dev.loraid.wan.RopeTables.MAX_POSITION) {
                throw new LoraidException("one-frame inference: index " + i + " is outside RoPE's frame positions 0.."
                    + (dev.loraid.wan.RopeTables.MAX_POSITION - 1));
            }
        }
        if (controlIndices.contains(targetIndex)) {
            throw new LoraidException("one-frame inference: target_index " + targetIndex + " is also a control_index "
                + controlIndices + "; each frame needs a position of its own");
        }
        if (controlIndices.stream().distinct().count() != controlIndices.size()) {
            throw new LoraidException("one-frame inference: control_index " + controlIndices + " repeats a position");
        }
    }

    /**
     * Upstream's option string: comma-separated {@code target_index=N} and {@code control_index=A;B;…} (FramePack's
     * {@code no_2x}, {@code no_4x}, {@code no_post} are passed over, as upstream's Wan path does).
     */
    public static OneFrame parse(String spec) {
        int target = 0;
        List<Integer> controls = List.of();
        for (String raw : spec.split(",")) {
            String part = raw.strip();
            try {
                if (part.startsWith("target_index=")) {
                    target = Integer.parseInt(part.substring("target_index=".length()).strip());
                } else if (part.startsWith("control_index=")) {
                    controls = new ArrayList<>();
                    for (String i : part.substring("control_index=".length()).split(";")) {
                        controls.add(Integer.parseInt(i.strip()));
                    }
                } else if (!part.isEmpty() && !FRAMEPACK_ONLY.contains(part)) {
                    throw new LoraidException("one-frame inference: unknown option '" + part + "' in '" + spec
                        + "' (known: target_index=N, control_index=A;B)");
                }
            } catch (NumberFormatException e) {
                throw new LoraidException("one-frame inference: '" + part + "' in '" + spec + "' is not an integer index");
            }
        }
        return new OneFrame(target, controls);
    }

    /** The latent frames' RoPE positions, in order: the control indices and the target index, sorted (f_indices). */
    public int[] framePositions() {
        int[] out = new int[controlIndices.size() + 1];
        for (int i = 0; i < controlIndices.size(); i++) {
            out[i] = controlIndices.get(i);
        }
        out[out.length - 1] = targetIndex;
        Arrays.sort(out);
        return out;
    }

    /** Which latent frame is the generated one (its place among {@link #framePositions}). */
    public int targetFrame() {
        return Arrays.binarySearch(framePositions(), targetIndex);
    }

    /** Upstream's spelling, for the output's metadata. */
    @Override
    public String toString() {
        return "target_index=" + targetIndex + ",control_index="
            + String.join(";", controlIndices.stream().map(String::valueOf).toList());
    }
}
