package dev.loraid.autograd.nn;

import dev.loraid.autograd.Var;

/** A module with one input and one output: what {@link Sequential} chains. */
public interface Layer {
    Var forward(Var x);
}
