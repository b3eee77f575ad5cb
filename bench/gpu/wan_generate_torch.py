#!/usr/bin/env python3
"""PyTorch twin of dev.loraid.bench.gpu.GpuGenerateBench: text-to-video sampling with a whole Wan 2.1 DiT as upstream's
generate.py runs it: bf16 weights, torch.autocast bf16 (fp32 LayerNorm statistics and modulation), torch.no_grad, SDPA
with the flash backend; each step the DiT on the prompt and on the negative prompt, CFG, then the UniPC (bh2, order 2)
update of musubi's FlowUniPCMultistepScheduler written out (the same arithmetic as our UniPcSolver and the CPU bench's
DjlWanSample), on the σ table and integer timesteps ours used (--sigmas, --timesteps). The DiT is the train-step twin's
(bench/gpu/wan_train_step_torch.py) without LoRA. Random weights made on the device; the same shapes as ours.

Samples one step first (start-up, cuDNN/cuBLAS selection), then times all steps in one sample. Prints
`torch_peak_reserved_gib=`, `torch_peak_allocated_gib=` and last `torch_ms=<ms per step>`.
Run: python3 bench/gpu/wan_generate_torch.py --sigmas ... --timesteps ... [--layers 40 --latents 16,21,60,104 ...]
"""
import argparse
import math
import os
import sys
import time


def lam(sigma):
    return math.log(1 - sigma) - math.log(sigma)


def unipc_predict(sigmas, i, order, x, m0, m1):
    """UniP from σ_i to σ_{i+1} (x0 predictions m0 = m_i, m1 = m_{i-1})."""
    sigma_t, sigma_s0 = sigmas[i + 1], sigmas[i]
    if sigma_t == 0:
        return m0
    alpha_t = 1 - sigma_t
    h = lam(sigma_t) - lam(sigma_s0)
    h_phi1 = math.expm1(-h)
    base = x * (sigma_t / sigma_s0)
    if order == 1:
        return base + m0 * (-alpha_t * h_phi1)
    rk = (lam(sigmas[i - 1]) - lam(sigma_s0)) / h
    c = -alpha_t * h_phi1 * 0.5 / rk
    return base + m0 * (-alpha_t * h_phi1 - c) + m1 * c


def unipc_correct(sigmas, i, m_t, last_sample, m_prev, m_prev2, prev_order):
    """UniC at step i: x_i corrected from the previous sample with m_i and the history."""
    sigma_t, sigma_s0 = sigmas[i], sigmas[i - 1]
    alpha_t = 1 - sigma_t
    lambda_s0 = lam(sigma_s0)
    h = lam(sigma_t) - lambda_s0
    hh = -h
    h_phi1 = math.expm1(hh)
    bh = h_phi1
    out = last_sample * (sigma_t / sigma_s0)
    cm0 = -alpha_t * h_phi1
    if prev_order == 1:
        c = -alpha_t * bh * 0.5
        return out + m_prev * (cm0 - c) + m_t * c
    rk = (lam(sigmas[i - 2]) - lambda_s0) / h
    h_phi_k = h_phi1 / hh - 1
    b1 = h_phi_k / bh
    h_phi_k = h_phi_k / hh - 0.5
    b2 = h_phi_k * 2 / bh
    rho0 = (b1 - b2) / (1 - rk)
    rho1 = b1 - rho0
    c_hist = -alpha_t * bh * rho0 / rk
    c_t = -alpha_t * bh * rho1
    return out + m_prev * (cm0 - c_hist - c_t) + m_prev2 * c_hist + m_t * c_t


def unipc_sample(x, velocity, sigmas, timesteps):
    """The guided UniPC loop: velocity(x, t) is the CFG-combined flow prediction; arithmetic only (numpy or torch)."""
    steps = len(timesteps)
    last_sample = m_prev = m_prev2 = None
    prev_order = 0
    for i in range(steps):
        v = velocity(x, timesteps[i])
        m = x - v * sigmas[i]
        sample = x if i == 0 else unipc_correct(sigmas, i, m, last_sample, m_prev, m_prev2, prev_order)
        order = min(2, steps - i, i + 1)
        nxt = unipc_predict(sigmas, i, order, sample, m, m_prev)
        if i < steps - 1:
            last_sample, m_prev2, m_prev, prev_order = sample, m_prev, m, order
        x = nxt
    return x


def floats(text):
    return [float(v) for v in text.split(",")]


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from wan_train_step_torch import model_arguments  # imports torch

    p = argparse.ArgumentParser()
    model_arguments(p)
    p.add_argument("--guidance", type=float, default=5.0)
    p.add_argument("--sigmas", required=True, help="the σ table, steps + 1 values ending in 0")
    p.add_argument("--timesteps", required=True, help="the DiT's timestep per step")
    a = p.parse_args()
    a.rank, a.checkpointing = 0, False
    sigmas, timesteps = floats(a.sigmas), floats(a.timesteps)
    if len(sigmas) != len(timesteps) + 1:
        sys.exit(f"--sigmas has {len(sigmas)} values: expected one more than --timesteps ({len(timesteps)})")

    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from wan_train_step_torch import Wan, rope_tables

    dev = torch.device("cuda")
    torch.manual_seed(0)
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, cuda {torch.version.cuda}", flush=True)
    c, f, h, w = (int(v) for v in a.latents.split(","))
    t0 = time.perf_counter()
    model = Wan(a, dev).eval()
    cos, sin = rope_tables(a.dim // a.heads, (f, h // 2, w // 2), dev)
    context = torch.randn(a.text, a.text_dim, device=dev) * 0.2
    negative = torch.randn(a.text, a.text_dim, device=dev) * 0.2
    noise = torch.randn(c, f, h, w, device=dev)
    print(f"model ready in {time.perf_counter() - t0:.1f} s", flush=True)

    def flow(x, t, ctx):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            rows = model(x, t, ctx, cos, sin)
        # unpatchify as upstream: [L, (1·2·2)·C] → einsum 'fhwpqrc->cfphqwr' → [C, F, H, W]
        return rows.float().view(f, h // 2, w // 2, 1, 2, 2, c).permute(6, 0, 3, 1, 4, 2, 5).reshape(c, f, h, w)

    def guided(x, t):
        cond, uncond = flow(x, t, context), flow(x, t, negative)
        return uncond + (cond - uncond) * a.guidance

    with torch.no_grad(), sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        torch.cuda.synchronize()
        t1 = time.perf_counter()
        unipc_sample(noise, guided, [sigmas[0], 0.0], timesteps[:1])
        torch.cuda.synchronize()
        print(f"torch one-step sample (warm-up): {time.perf_counter() - t1:.2f} s", flush=True)
        t2 = time.perf_counter()
        latent = unipc_sample(noise, guided, sigmas, timesteps)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - t2
    print(f"torch sample: {len(timesteps)} steps in {seconds:.2f} s, final latent rms {latent.pow(2).mean().sqrt().item():.4f}",
          flush=True)
    print(f"torch_peak_reserved_gib={torch.cuda.max_memory_reserved() / 2**30:.2f}", flush=True)
    print(f"torch_peak_allocated_gib={torch.cuda.max_memory_allocated() / 2**30:.2f}", flush=True)
    print(f"torch_ms={seconds / len(timesteps) * 1e3:.3f}", flush=True)


if __name__ == "__main__":
    main()
