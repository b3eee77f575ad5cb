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
 */
public final class BatchLoader {
    static final Set<String> KNOWN = Set.of("latents", "latents_image", "latents_control", "clip", "t5");
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
        checkRank(t.get("clip"), 2, "[tokens, D]", from.get("clip"));
        return new TrainSample(item.itemKey(), latents, t5, t.get("latents_image"), t.get("clip"),
            t.get("latents_control"));
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
                if (key.equals("f_indices")) {
                    throw new LoraidException(where + ": one-frame caches are not supported for training");
                }
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
