/**
 * Flow-matching sampling for Wan (spec training.md §6.4–6.5): the σ tables and DiT timesteps of each solver
 * ({@link dev.loraid.wan.sample.FlowSchedule}), the solvers behind {@link dev.loraid.wan.sample.FlowSolver}
 * ({@code unipc}, {@code dpm++}, {@code vanilla}, chosen by {@link dev.loraid.wan.sample.SolverKind}), the loop
 * ({@link dev.loraid.wan.sample.FlowSampler}) over a {@link dev.loraid.wan.sample.Velocity}, and the guided velocity
 * of a Wan DiT ({@link dev.loraid.wan.sample.GuidedVelocity}: CFG, cfg skip, skip-layer guidance, A14B experts, over
 * {@link dev.loraid.wan.sample.Denoiser}s such as {@link dev.loraid.wan.sample.WanDenoiser}).
 *
 * <pre>{@code
 * FlowSchedule s = SolverKind.UNIPC.schedule(50, 5.0);
 * Velocity v = new GuidedVelocity(null, new GuidedVelocity.Expert("dit", WanDenoiser.textToVideo(model, ctx, neg,
 *         List.of()), 5.0), null, CfgSkipMode.NONE.applied(50, null), SkipLayerGuidance.OFF,
 *         GuidedVelocity.SwitchListener.NONE);
 * Tensor latent = FlowSampler.sample(SolverKind.UNIPC, s, noise, v, FlowSampler.StepListener.NONE);
 * }</pre>
 */
package dev.loraid.wan.sample;
