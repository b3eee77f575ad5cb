/**
 * Reverse-mode autograd over {@link dev.loraid.tensor.Tensor}, PyTorch-style modules, optimizers and LR schedules.
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>{@link dev.loraid.autograd.Var}: a differentiable value (data, grad, requiresGrad, producing node).
 *       {@link dev.loraid.autograd.Ops} holds every differentiable function; the op classes in
 *       {@code dev.loraid.autograd.ops} each keep their forward and backward side by side.</li>
 *   <li>{@link dev.loraid.autograd.GradMode#noGrad()}: try-with-resources scope without graph recording.</li>
 *   <li>{@link dev.loraid.autograd.Module} / {@link dev.loraid.autograd.Parameter}: dotted names
 *       ({@code blocks.0.self_attn.q.weight}), {@code stateDict()}, {@code loadStateDict(source, strict)};
 *       layers in {@code dev.loraid.autograd.nn} ({@code Linear}, {@code LayerNorm}, {@code RMSNorm},
 *       {@code Sequential}, {@code ModuleList}, {@code Activation}).</li>
 *   <li>Optimizers (AdamW and bitsandbytes' 8-bit AdamW, Adafactor, Prodigy, schedule-free AdamW, Lion, SGD), LR
 *       schedules (diffusers' by name, torch.optim.lr_scheduler classes), gradient clipping, resume state in
 *       {@code dev.loraid.autograd.optim};
 *       recomputation in the backward pass (gradient checkpointing) in {@link dev.loraid.autograd.Recompute};
 *       the training random stream ({@link dev.loraid.autograd.Rng}: dropout masks, module-dropout draws) that
 *       recomputation replays.</li>
 * </ul>
 *
 * <h2>Precision and memory rules</h2>
 * Math runs in F32 (F64 when every input is F64, for gradient checks). Frozen weights (requiresGrad false,
 * any dtype, e.g. BF16 mmapped from a checkpoint) are read by the kernels in their own dtype and never get a
 * gradient; only activation gradients flow through them. Activations and intermediate gradients come from the
 * current {@link dev.loraid.tensor.MemoryScope}; parameter gradients and optimizer state live outside it.
 *
 * <h2>Example: one training step</h2>
 * <pre>{@code
 * Sequential mlp = Sequential.of(Linear.trainable(2, 64, true, 1), Activation.gelu(), Linear.trainable(64, 1, true, 3));
 * AdamW opt = new AdamW(mlp.trainableParameters(), 1e-3);          // betas (0.9, 0.999), eps 1e-8, wd 0.01
 * LrScheduler sched = new LrScheduler(opt, LrSchedules.cosine(100, 1000));
 * for (int step = 0; step < 1000; step++) {
 *     try (MemoryScope scope = MemoryScope.open()) {                 // activations die with the scope
 *         Var pred = mlp.forward(Var.constant(x));
 *         Var loss = Ops.mseLoss(pred, Var.constant(y), null);
 *         loss.backward();                                          // grads accumulate into Parameter.grad()
 *         GradClip.clipGlobalNorm(mlp.trainableParameters().values(), 1.0);   // --max_grad_norm
 *         opt.step();
 *         opt.zeroGrad();
 *         sched.step();
 *     }
 * }
 * }</pre>
 *
 * <h2>Example: a block with a frozen base and attention</h2>
 * <pre>{@code
 * Linear q = Linear.declared(dim, dim, true, DType.BF16);  // no memory until loadStateDict adopts the mmapped weight
 * Var h = Ops.layerNorm(x, null, null, 1e-6);             // x [B, L, C]
 * Var qh = Ops.rope(q.forward(h).reshape(b, l, heads, d), cos, sin).permute(0, 2, 1, 3);   // [B, H, L, D]
 * Var o = Ops.attention(qh, kh, vh).permute(0, 2, 1, 3).reshape(b, l, dim);
 * Var y = Recompute.apply(block, in -> block.forward(in[0]), x);   // activations recomputed in backward
 * }</pre>
 *
 * <h2>Gradient accumulation</h2>
 * Gradients add up over backward passes until {@code zeroGrad()}; pass the micro-batch weight as the seed,
 * {@code loss.backward(1.0 / k)} for k micro-batches per update (what accelerate does, spec training.md §3.3).
 *
 * <h2>Resume</h2>
 * {@code TrainingState.save(file, module.trainableParameters(), optimizer, scheduler, metadata)} and
 * {@code TrainingState.load(...)}: parameters, optimizer moments and the scheduler step in one safetensors file.
 */
package dev.loraid.autograd;
