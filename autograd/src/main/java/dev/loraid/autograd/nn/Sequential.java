package dev.loraid.autograd.nn;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Var;

import java.util.ArrayList;
import java.util.List;

/** Layers applied in order, registered as "0", "1", … (so {@code ffn.0.weight} as in PyTorch checkpoints). */
public class Sequential extends Module implements Layer {
    private final List<Layer> layers = new ArrayList<>();

    @SafeVarargs
    public static <L extends Module & Layer> Sequential of(L... layers) {
        Sequential s = new Sequential();
        for (L l : layers) {
            s.add(l);
        }
        return s;
    }

    public <L extends Module & Layer> Sequential add(L layer) {
        registerModule(String.valueOf(layers.size()), layer);
        layers.add(layer);
        return this;
    }

    public Layer get(int i) {
        return layers.get(i);
    }

    public int size() {
        return layers.size();
    }

    @Override
    public Var forward(Var x) {
        Var h = x;
        for (Layer l : layers) {
            h = l.forward(h);
        }
        return h;
    }
}
