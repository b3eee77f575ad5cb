"""PyTorch twin of dev.loraid.bench.gpu.WanBlockGpuBench (the real WanBlock through autograd with the trainer's LoRA
adapters): one Wan 2.1 DiT block, forward + backward, rank-r LoRA on every linear layer, BF16 activations and frozen
BF16 base weights, fp32 LoRA masters cast to BF16 per step (what autocast does), eager mode, SDPA with the
flash-attention backend. Same shapes and the same work as ours: input gradient + every LoRA gradient, no base-weight
gradients, no gradient into the text context. (Ours keeps its activations in fp32 until the --mixed_precision rules
exist: the ratio compares the product path as it is with what PyTorch trainers run.)

Prints a few figures and, last, `torch_ms=<median ms per step>`. Run: python3 bench/gpu/wan_block_torch.py [--tokens N]
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

EPS = 1e-6


class LoraLinear(torch.nn.Module):
    def __init__(self, d_in, d_out, rank, alpha, dev):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(d_out, d_in, device=dev, dtype=torch.bfloat16) / math.sqrt(d_in),
                                         requires_grad=False)
        self.bias = torch.nn.Parameter(torch.randn(d_out, device=dev, dtype=torch.bfloat16) * 0.01, requires_grad=False)
        self.lora_a = torch.nn.Parameter(torch.randn(rank, d_in, device=dev) / math.sqrt(d_in))
        self.lora_b = torch.nn.Parameter(torch.randn(d_out, rank, device=dev) * 0.05)
        self.scale = alpha / rank

    def forward(self, x):
        a = self.lora_a.to(torch.bfloat16)
        b = self.lora_b.to(torch.bfloat16)
        return F.linear(x, self.weight, self.bias) + F.linear(F.linear(x, a), b) * self.scale


class WanBlock(torch.nn.Module):
    def __init__(self, dim, heads, ffn, tokens, rank, dev):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        mk = lambda i, o: LoraLinear(i, o, rank, rank, dev)
        self.q, self.k, self.v, self.o = mk(dim, dim), mk(dim, dim), mk(dim, dim), mk(dim, dim)
        self.cq, self.ck, self.cv, self.co = mk(dim, dim), mk(dim, dim), mk(dim, dim), mk(dim, dim)
        self.ffn1, self.ffn2 = mk(dim, ffn), mk(ffn, dim)
        vec = lambda mean: (torch.randn(dim, device=dev) * 0.1 + mean).to(torch.bfloat16)
        self.gq, self.gk, self.gcq, self.gck = vec(1), vec(1), vec(1), vec(1)
        self.ln3w, self.ln3b = vec(1), vec(0)
        self.mod = [vec(1 if i in (1, 4) else 0) for i in range(6)]  # shift1, 1+scale1, gate1, shift2, 1+scale2, gate2
        angle = torch.rand(tokens, self.head_dim // 2, device=dev) * 2 * math.pi
        self.cos, self.sin = angle.cos(), angle.sin()

    def heads_view(self, t):
        return t.view(1, t.shape[0], self.heads, self.head_dim).transpose(1, 2)

    def rope(self, t):
        x = t.float().view(t.shape[0], self.heads, self.head_dim // 2, 2)
        c, s = self.cos[:, None, :], self.sin[:, None, :]
        re, im = x[..., 0], x[..., 1]
        return torch.stack((re * c - im * s, re * s + im * c), dim=-1).flatten(1).to(t.dtype)

    def attn(self, q, k, v):
        o = F.scaled_dot_product_attention(self.heads_view(q), self.heads_view(k), self.heads_view(v))
        return o.transpose(1, 2).reshape(q.shape[0], -1)

    def forward(self, x, ctx):
        d = x.shape[-1]
        sh1, sc1, g1, sh2, sc2, g2 = self.mod
        y1 = F.layer_norm(x, (d,), eps=EPS) * sc1 + sh1
        q = self.rope(F.rms_norm(self.q(y1), (d,), self.gq, EPS))
        k = self.rope(F.rms_norm(self.k(y1), (d,), self.gk, EPS))
        x1 = x + self.o(self.attn(q, k, self.v(y1))) * g1
        n3 = F.layer_norm(x1, (d,), self.ln3w, self.ln3b, EPS)
        cq = F.rms_norm(self.cq(n3), (d,), self.gcq, EPS)
        ck = F.rms_norm(self.ck(ctx), (d,), self.gck, EPS)
        x2 = x1 + self.co(self.attn(cq, ck, self.cv(ctx)))
        y2 = F.layer_norm(x2, (d,), eps=EPS) * sc2 + sh2
        return x2 + self.ffn2(F.gelu(self.ffn1(y2), approximate="tanh")) * g2


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dim", type=int, default=5120)
    p.add_argument("--heads", type=int, default=40)
    p.add_argument("--ffn", type=int, default=13824)
    p.add_argument("--tokens", type=int, default=21 * 30 * 52)
    p.add_argument("--text", type=int, default=512)
    p.add_argument("--rank", type=int, default=32)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args()
    dev = torch.device("cuda")
    torch.manual_seed(0)
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, cuda {torch.version.cuda}", flush=True)
    block = WanBlock(a.dim, a.heads, a.ffn, a.tokens, a.rank, dev)
    x = torch.randn(a.tokens, a.dim, device=dev, dtype=torch.bfloat16, requires_grad=True)
    ctx = torch.randn(a.text, a.dim, device=dev, dtype=torch.bfloat16)
    g = torch.randn(a.tokens, a.dim, device=dev, dtype=torch.bfloat16) * 1e-2
    times = []
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        for i in range(a.warmup + a.iters):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = block(x, ctx)
            out.backward(g)
            torch.cuda.synchronize()
            ms = (time.perf_counter() - t0) * 1e3
            x.grad = None
            for prm in block.parameters():
                prm.grad = None
            print(f"torch step {i - a.warmup}: {ms:.3f} ms", flush=True)
            if i >= a.warmup:
                times.append(ms)
        # the same two component figures as ours
        w = torch.randn(a.ffn, a.dim, device=dev, dtype=torch.bfloat16) * 0.02
        xs = torch.randn(a.tokens, a.dim, device=dev, dtype=torch.bfloat16)
        qkv = [torch.randn(1, a.tokens, a.heads, a.dim // a.heads, device=dev, dtype=torch.bfloat16).transpose(1, 2)
               for _ in range(3)]
        qkv_grad = [t.detach().requires_grad_() for t in qkv]
        att_out = F.scaled_dot_product_attention(*qkv_grad)
        d_att = torch.randn_like(att_out)
        attn_flops = 4.0 * a.tokens * a.tokens * a.dim
        for name, fn, flops in (("ffn GEMM", lambda: F.linear(xs, w), 2.0 * a.tokens * a.dim * a.ffn),
                                ("self-attention forward", lambda: F.scaled_dot_product_attention(*qkv), attn_flops),
                                ("self-attention backward",
                                 lambda: torch.autograd.grad(att_out, qkv_grad, d_att, retain_graph=True),
                                 2.5 * attn_flops)):
            fn()
            ts = []
            for _ in range(max(1, a.iters)):
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                fn()
                torch.cuda.synchronize()
                ts.append(time.perf_counter() - t0)
            print(f"{name}: {flops / statistics.median(ts) / 1e12:.1f} TFLOP/s", flush=True)
    print(f"peak memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB", flush=True)
    print(f"torch_ms={statistics.median(times):.3f}", flush=True)


if __name__ == "__main__":
    main()
