package dev.loraid.core.data;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads a {@link Batch}'s latent and text caches (spec training.md §4.7 "Loading a batch"). Tensor names are
 * normalised as upstream does: strip {@code varlen_}, strip the dtype suffix (the last {@code _token}), strip a
 * trailing {@code _FxHxW} from {@code latents*} names, giving latents, latents_image, latents_control, clip, t5.
 * The dtype always comes from the safetensors header, never from the suffix ({@code clip_bfloat16} holds F16).
 * One-frame caches (upstream's {@code wan_cache_latents.py --one_frame}, docs/wan_1f.md) also hold {@code f_indices}
 * (each latent frame's RoPE index) and CLIP tokens per control image [n, 257, 1280]: the trainer ignores
 * {@code f_indices}, as upstream's {@code call_dit} does (the frames take positions 0..F-1), and the n images' tokens
 * follow each other ([n·257, 1280]: one image for I2V, the start and end images for FLF2V, upstream's reshape).
 */
public final class BatchLoader {
    static final Set<String> KNOWN = Set.of("latents", "latents_image", "latents_control", "clip", "t5", "f_indices");
    private static final Pattern LATENT_DIMS = Pattern.compile("\\d+x\\d+x\\d+");

    private BatchLoader() {
    }

    /** One sample per item, in batch order; the files are closed again before this returns. */
    public static List<TrainSample> load(Batch batch) {
        List<TrainSample> out = new ArrayList<>(batch.size());
        for (CacheItem item : batch.items()) {
            TrainSample s = load(item);
            if (!out.isEmpty()) {
                checkSameShapes(out.getFirst(), batch.items().getFirst(), s, item);
            }
            out.add(s);
        }
        return out;
    }

    /** One item's tensors (see the class comment), checked for presence and rank. */
    public static TrainSample load(CacheItem item) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        Map<String, String> from = new LinkedHashMap<>();
        read(item.latentCache(), t, from);
        read(item.textCache(), t, from);
        Tensor latents = t.get("latents");
        if (latents == null) {
            throw new LoraidException(item.latentCache() + ": no latents tensor (latents_<F>x<H>x<W>_<dtype>); "
                + "tensors: " + from.values());
        }
        Tensor t5 = t.get("t5");
        if (t5 == null) {
            throw new LoraidException(item.textCache() + ": no t5 tensor (varlen_t5_<dtype>); tensors: " + from.values());
        }
        checkRank(latents, 4, "[C, F, H, W]", from.get("latents"));
        checkRank(t5, 2, "[L, D]", from.get("t5"));
        checkRank(t.get("latents_image"), 4, "[C, F, H, W]", from.get("latents_image"));
        checkRank(t.get("latents_control"), 4, "[C, F, H, W]", from.get("latents_control"));
        Tensor clip = t.get("clip");
        if (clip != null && clip.rank() == 3) { // a one-frame cache: tokens per control image
            clip = clip.reshape(clip.size(0) * clip.size(1), clip.size(2));
        }
        checkRank(clip, 2, "[tokens, D] (or [images, tokens, D])", from.get("clip"));
        Tensor fIndices = t.get("f_indices");
        if (fIndices != null && (fIndices.rank() != 1 || fIndices.size(0) != latents.size(1))) {
            throw new LoraidException(from.get("f_indices") + ": shape " + fIndices.shape() + ", expected one RoPE index per "
                + "latent frame [" + latents.size(1) + "]");
        }
        return new TrainSample(item.itemKey(), latents, t5, t.get("latents_image"), clip, t.get("latents_control"));
    }

    /** Upstream's key normalisation (see the class comment). */
    static String normalize(String key) {
        String k = key.startsWith("varlen_") ? key.substring("varlen_".length()) : key;
        if (!k.endsWith("_mask")) {
            int u = k.lastIndexOf('_');
            if (u > 0) {
                k = k.substring(0, u); // the dtype suffix; its spelling is not trusted
            }
        }
        if (k.startsWith("latents_")) {
            int u = k.lastIndexOf('_');
            if (LATENT_DIMS.matcher(k.substring(u + 1)).matches()) {
                k = k.substring(0, u);
            }
        }
        return k;
    }

    private static void read(Path file, Map<String, Tensor> into, Map<String, String> from) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.names()) {
                String key = normalize(name);
                String where = file + ": " + name;
                if (!KNOWN.contains(key)) {
                    throw new LoraidException(where + ": unexpected tensor (after normalisation '" + key
                        + "'; expected one of " + new TreeSet<>(KNOWN) + ")");
                }
                String earlier = from.putIfAbsent(key, where);
                if (earlier != null) {
                    throw new LoraidException(where + ": a second '" + key + "' tensor (the first is " + earlier + ")");
                }
                into.put(key, copyOut(f.tensor(name)));
            }
        } catch (NoSuchFileException e) {
            throw new LoraidException(file + ": cache file not found", e);
        } catch (IOException e) {
            throw new LoraidException(file + ": cannot read cache file (" + e.getMessage() + ")", e);
        }
    }

    /** A host copy that outlives the file, in the file's dtype. */
    private static Tensor copyOut(Tensor t) {
        long bytes = t.numel() * t.dtype().byteSize();
        MemorySegment dst = Arena.ofAuto().allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
        MemorySegment.copy(t.storage().segment(), t.offset() * t.dtype().byteSize(), dst, 0, bytes);
        return new Tensor(Storage.host(dst), t.dtype(), t.shape(), t.shape().contiguousStrides(), 0);
    }

    private static void checkRank(Tensor t, int rank, String layout, String where) {
        if (t != null && t.rank() != rank) {
            throw new LoraidException(where + ": expected rank " + rank + " " + layout + ", got shape " + t.shape());
        }
    }

    private static void checkSameShapes(TrainSample first, CacheItem firstItem, TrainSample s, CacheItem item) {
        check("latents", first.latents(), firstItem, s.latents(), item);
        check("latents_image", first.latentsImage(), firstItem, s.latentsImage(), item);
        check("clip", first.clip(), firstItem, s.clip(), item);
        check("latents_control", first.latentsControl(), firstItem, s.latentsControl(), item);
    }

    private static void check(String key, Tensor a, CacheItem ia, Tensor b, CacheItem ib) {
        String sa = a == null ? "absent" : a.shape() + " " + a.dtype();
        String sb = b == null ? "absent" : b.shape() + " " + b.dtype();
        if (!Objects.equals(sa, sb)) {
            throw new LoraidException(ib.latentCache() + ": " + key + " is " + sb + " but " + ia.latentCache()
                + " in the same batch has " + sa + "; items of one batch must match (bucket " + ib.bucketKey() + ")");
        }
    }
}
