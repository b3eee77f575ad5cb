#!/usr/bin/env python3
"""PyTorch twin of dev.loraid.bench.gpu.GpuTrainStepBench: one LoRA training step of a whole Wan 2.1 DiT as PyTorch
trainers run it (musubi-tuner style): frozen bf16 base weights, autocast bf16 (fp32 LayerNorm statistics, fp32 LoRA
masters cast per op), rank-r LoRA on all ten Linears of every block, per-block gradient checkpointing
(torch.utils.checkpoint, non-reentrant), SDPA with the flash backend, flow-matching MSE loss, AdamW (weight decay
0.01) with global-norm clipping at 1.0. Random weights made on the device; the same shapes as ours.

Prints one line per step, then `torch_peak_reserved_gib=`, `torch_peak_allocated_gib=` and last `torch_ms=<median ms>`.
Run: python3 bench/gpu/wan_train_step_torch.py [--layers 40 --latents 16,21,60,104 ...]
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.checkpoint import checkpoint

EPS = 1e-6


def frozen(*shape, std, mean=0.0, dev):
    return torch.nn.Parameter((torch.randn(*shape, device=dev, dtype=torch.bfloat16) * std + mean), requires_grad=False)


class Linear(torch.nn.Module):
    """A frozen bf16 Linear, with an optional LoRA branch (down ~ U(±1/sqrt(in)), up = 0, scale alpha / r)."""

    def __init__(self, d_in, d_out, dev, rank=0):
        super().__init__()
        self.weight = frozen(d_out, d_in, std=1 / math.sqrt(d_in), dev=dev)
        self.bias = frozen(d_out, std=0.1, dev=dev)
        self.rank = rank
        if rank:
            bound = 1 / math.sqrt(d_in)
            self.down = torch.nn.Parameter(torch.empty(rank, d_in, device=dev).uniform_(-bound, bound))
            self.up = torch.nn.Parameter(torch.zeros(d_out, rank, device=dev))

    def forward(self, x):
        y = F.linear(x, self.weight, self.bias)
        if self.rank:
            y = y + F.linear(F.linear(x, self.down), self.up)  # alpha = rank: scale 1
        return y


class RMSNorm(torch.nn.Module):
    def __init__(self, dim, dev):
        super().__init__()
        self.weight = frozen(dim, std=0.1, mean=1.0, dev=dev)

    def forward(self, x):
        return F.rms_norm(x.float(), (x.shape[-1],), self.weight.float(), EPS).type_as(x)


def rope(x, cos, sin):
    """x [L, H, D] rotated in pairs (2j, 2j+1) by the per-token angles cos/sin [L, 1, D/2] (spec wan.md §2.8)."""
    xf = x.float().unflatten(-1, (-1, 2))
    re, im = xf[..., 0], xf[..., 1]
    return torch.stack((re * cos - im * sin, re * sin + im * cos), dim=-1).flatten(-2).type_as(x)


def attention(q, k, v, heads):
    t = lambda a: a.unflatten(-1, (heads, -1)).transpose(0, 1).unsqueeze(0)
    return F.scaled_dot_product_attention(t(q), t(k), t(v)).squeeze(0).transpose(0, 1).flatten(-2)


class Block(torch.nn.Module):
    def __init__(self, dim, ffn, heads, rank, dev):
        super().__init__()
        self.heads = heads
        mk = lambda i, o: Linear(i, o, dev, rank)
        self.modulation = frozen(1, 6, dim, std=0.1, dev=dev)
        self.q, self.k, self.v, self.o = mk(dim, dim), mk(dim, dim), mk(dim, dim), mk(dim, dim)
        self.norm_q, self.norm_k = RMSNorm(dim, dev), RMSNorm(dim, dev)
        self.norm3_w, self.norm3_b = frozen(dim, std=0.1, mean=1.0, dev=dev), frozen(dim, std=0.1, dev=dev)
        self.cq, self.ck, self.cv, self.co = mk(dim, dim), mk(dim, dim), mk(dim, dim), mk(dim, dim)
        self.norm_cq, self.norm_ck = RMSNorm(dim, dev), RMSNorm(dim, dev)
        self.ffn1, self.ffn2 = mk(dim, ffn), mk(ffn, dim)

    def forward(self, x, e0, ctx, cos, sin):
        d = x.shape[-1]
        m = (self.modulation.float() + e0).unbind(1)  # six [1, D] chunks, fp32 as upstream
        y = F.layer_norm(x.float(), (d,), eps=EPS) * (1 + m[1]) + m[0]
        q = rope(self.norm_q(self.q(y)).unflatten(-1, (self.heads, -1)), cos, sin).flatten(-2)
        k = rope(self.norm_k(self.k(y)).unflatten(-1, (self.heads, -1)), cos, sin).flatten(-2)
        x = x + self.o(attention(q, k, self.v(y), self.heads)) * m[2]
        n3 = F.layer_norm(x.float(), (d,), self.norm3_w.float(), self.norm3_b.float(), EPS)
        x = x + self.co(attention(self.norm_cq(self.cq(n3)), self.norm_ck(self.ck(ctx)), self.cv(ctx), self.heads))
        y = F.layer_norm(x.float(), (d,), eps=EPS) * (1 + m[4]) + m[3]
        return x + self.ffn2(F.gelu(self.ffn1(y), approximate="tanh")) * m[5]


class Wan(torch.nn.Module):
    def __init__(self, a, dev):
        super().__init__()
        self.a = a
        dim = a.dim
        self.patch = frozen(dim, a.in_dim, 1, 2, 2, std=0.1, dev=dev)
        self.patch_bias = frozen(dim, std=0.1, dev=dev)
        self.text1, self.text2 = Linear(a.text_dim, dim, dev), Linear(dim, dim, dev)
        self.time1, self.time2 = Linear(256, dim, dev), Linear(dim, dim, dev)
        self.time_proj = Linear(dim, 6 * dim, dev)
        self.blocks = torch.nn.ModuleList(Block(dim, a.ffn, a.heads, a.rank, dev) for _ in range(a.layers))
        self.head_mod = frozen(1, 2, dim, std=0.1, dev=dev)
        self.head = Linear(dim, a.in_dim * 4, dev)

    def forward(self, latent, t, context, cos, sin):
        a = self.a
        x = F.conv3d(latent.unsqueeze(0), self.patch, self.patch_bias, stride=(1, 2, 2)).flatten(2).squeeze(0).t()
        half = 128
        freqs = torch.pow(10000, -torch.arange(half, device=latent.device, dtype=torch.float64) / half)
        sinusoid = torch.outer(torch.tensor([t], device=latent.device, dtype=torch.float64), freqs)
        sinusoid = torch.cat([torch.cos(sinusoid), torch.sin(sinusoid)], dim=1).float()
        e = self.time2(F.silu(self.time1(sinusoid))).float()
        e0 = self.time_proj(F.silu(e)).float().unflatten(-1, (6, a.dim))
        ctx = F.pad(context, (0, 0, 0, a.text_len - context.shape[0]))
        ctx = self.text2(F.gelu(self.text1(ctx), approximate="tanh"))
        for b in self.blocks:
            x = checkpoint(b, x, e0, ctx, cos, sin, use_reentrant=False) if a.checkpointing else b(x, e0, ctx, cos, sin)
        shift, scale = (self.head_mod.float() + e.unsqueeze(1)).unbind(1)
        return self.head(F.layer_norm(x.float(), (a.dim,), eps=EPS) * (1 + scale) + shift)


def rope_tables(head_dim, grid, dev):
    """Per-token cos/sin [L, 1, head_dim/2] over (frame, height, width) as Wan splits the pairs (wan.md §2.8)."""
    c = head_dim // 2
    splits = (c - 2 * (c // 3), c // 3, c // 3)
    angles = []
    for n, size, axis in zip(splits, grid, range(3)):
        inv = 1.0 / torch.pow(10000, torch.arange(0, 2 * n, 2, device=dev, dtype=torch.float64) / (2 * n))
        pos = torch.arange(size, device=dev, dtype=torch.float64)
        ang = torch.outer(pos, inv)
        shape = [1, 1, 1, n]
        shape[axis] = size
        angles.append(ang.view(shape).expand(grid[0], grid[1], grid[2], n))
    ang = torch.cat(angles, dim=-1).reshape(-1, 1, c)
    return ang.cos().float(), ang.sin().float()


def model_arguments(p):
    """The DiT's and the inputs' shapes (Wan 2.1 14B at 480p x 81 frames by default), shared with the generate twin."""
    p.add_argument("--layers", type=int, default=40)
    p.add_argument("--dim", type=int, default=5120)
    p.add_argument("--ffn", type=int, default=13824)
    p.add_argument("--heads", type=int, default=40)
    p.add_argument("--text-dim", type=int, default=4096)
    p.add_argument("--text-len", type=int, default=512)
    p.add_argument("--text", type=int, default=512)
    p.add_argument("--in-dim", type=int, default=16)
    p.add_argument("--latents", default="16,21,60,104")


def main():
    p = argparse.ArgumentParser()
    model_arguments(p)
    p.add_argument("--rank", type=int, default=32)
    p.add_argument("--iters", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--no-checkpointing", dest="checkpointing", action="store_false")
    a = p.parse_args()
    dev = torch.device("cuda")
    torch.manual_seed(0)
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, cuda {torch.version.cuda}", flush=True)
    c, f, h, w = (int(v) for v in a.latents.split(","))
    t0 = time.perf_counter()
    model = Wan(a, dev)
    cos, sin = rope_tables(a.dim // a.heads, (f, h // 2, w // 2), dev)
    latents = torch.randn(c, f, h, w, device=dev)
    context = torch.randn(a.text, a.text_dim, device=dev) * 0.2
    lora = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(lora, lr=1e-4, weight_decay=0.01)
    print(f"{len(lora) // 2} LoRA modules, {sum(q.numel() for q in lora):,} LoRA parameters, model ready in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    sigma, timestep = 0.6, 600.0
    times = []
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        for i in range(a.warmup + a.iters):
            torch.cuda.synchronize()
            t1 = time.perf_counter()
            noise = torch.randn_like(latents)
            noisy = (1 - sigma) * latents + sigma * noise
            with torch.autocast("cuda", dtype=torch.bfloat16):
                rows = model(noisy, timestep, context, cos, sin)
            # unpatchify as upstream: [L, (1·2·2)·C] → einsum 'fhwpqrc->cfphqwr' → [C, F, H, W]
            pred = rows.float().view(f, h // 2, w // 2, 1, 2, 2, c).permute(6, 0, 3, 1, 4, 2, 5).reshape(c, f, h, w)
            loss = F.mse_loss(pred, noise - latents)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lora, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            torch.cuda.synchronize()
            ms = (time.perf_counter() - t1) * 1e3
            print(f"torch step {i - a.warmup}: {ms:.1f} ms, loss {loss.item():.6f}", flush=True)
            if i >= a.warmup:
                times.append(ms)
    print(f"torch_peak_reserved_gib={torch.cuda.max_memory_reserved() / 2**30:.2f}", flush=True)
    print(f"torch_peak_allocated_gib={torch.cuda.max_memory_allocated() / 2**30:.2f}", flush=True)
    print(f"torch_ms={statistics.median(times):.3f}", flush=True)


if __name__ == "__main__":
    main()
