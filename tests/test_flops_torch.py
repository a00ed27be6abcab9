"""Detailed FLOPs against an independent count: torch's FlopCounterMode on small Llama-shaped models.

The models are built here from the same architecture fields, randomly initialised, on the CPU (no
weights are downloaded). Skipped when torch is not installed: `pip install torch==2.13.0`.
"""

import pytest

from llamacalc.flops import flops_per_token
from llamacalc.specs import Architecture

torch = pytest.importorskip("torch")
flop_counter = pytest.importorskip("torch.utils.flop_counter")
nn = torch.nn


class SwiGLU(nn.Module):
    def __init__(self, d: int, width: int):
        super().__init__()
        self.gate, self.up = nn.Linear(d, width, bias=False), nn.Linear(d, width, bias=False)
        self.down = nn.Linear(width, d, bias=False)

    def forward(self, x):
        return self.down(nn.functional.silu(self.gate(x)) * self.up(x))


class MoE(nn.Module):
    """Top-k routed experts plus shared experts, as in Llama 4 (one shared, top-1 routed)."""

    def __init__(self, arch: Architecture):
        super().__init__()
        self.k = arch.experts_per_token
        self.router = nn.Linear(arch.d_model, arch.experts, bias=False)
        self.experts = nn.ModuleList(SwiGLU(arch.d_model, arch.moe_ffn) for _ in range(arch.experts))
        self.shared = nn.ModuleList(SwiGLU(arch.d_model, arch.moe_ffn) for _ in range(arch.shared_experts))

    def forward(self, x):
        flat = x.reshape(-1, x.shape[-1])
        weights, chosen = self.router(flat).topk(self.k, dim=-1)
        out = sum(expert(flat) for expert in self.shared) if self.shared else torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            rows, slot = (chosen == e).nonzero(as_tuple=True)
            if len(rows):
                out = out.index_add(0, rows, expert(flat[rows]) * weights[rows, slot, None].sigmoid())
        return out.reshape(x.shape)


class Layer(nn.Module):
    def __init__(self, arch: Architecture, is_moe: bool):
        super().__init__()
        d, hd = arch.d_model, arch.head_dim
        self.heads, self.kv_heads, self.hd = arch.heads, arch.kv_heads, hd
        self.q, self.o = nn.Linear(d, arch.heads * hd, bias=False), nn.Linear(arch.heads * hd, d, bias=False)
        self.k, self.v = (nn.Linear(d, arch.kv_heads * hd, bias=False) for _ in range(2))
        self.mlp = MoE(arch) if is_moe else SwiGLU(d, arch.ffn)

    def forward(self, x):
        b, t, _ = x.shape
        q = self.q(x).view(b, t, self.heads, self.hd).transpose(1, 2)
        k, v = (proj(x).view(b, t, self.kv_heads, self.hd).transpose(1, 2) for proj in (self.k, self.v))
        k, v = (y.repeat_interleave(self.heads // self.kv_heads, dim=1) for y in (k, v))
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        scores = (q @ k.transpose(-1, -2) / self.hd**0.5).masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + self.o((scores @ v).transpose(1, 2).reshape(b, t, -1))
        return x + self.mlp(nn.functional.rms_norm(x, (x.shape[-1],)))


class Llama(nn.Module):
    def __init__(self, arch: Architecture):
        super().__init__()
        self.embed = nn.Embedding(arch.vocab, arch.d_model)
        every = arch.moe_every
        self.layers = nn.ModuleList(Layer(arch, arch.is_moe and (i + 1) % every == 0) for i in range(arch.layers))
        self.unembed = nn.Linear(arch.d_model, arch.vocab, bias=False)

    def forward(self, tokens):
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x)
        return self.unembed(x)


def counted_training_flops(arch: Architecture, batch: int, seq: int) -> int:
    torch.manual_seed(0)
    model = Llama(arch)
    tokens = torch.randint(arch.vocab, (batch, seq))
    with flop_counter.FlopCounterMode(display=False) as counter:
        model(tokens).square().mean().backward()
    return counter.get_total_flops()


SHAPES = {
    "gqa": Architecture(layers=2, d_model=256, heads=8, kv_heads=2, ffn=688, vocab=1000),
    "mha": Architecture(layers=3, d_model=192, heads=6, kv_heads=6, ffn=512, vocab=512),
    "moe": Architecture(layers=4, d_model=128, heads=4, kv_heads=2, ffn=384, vocab=500, experts=4,
                        experts_per_token=1, shared_experts=1, moe_ffn=256, moe_every=2),
}  # fmt: skip


@pytest.mark.parametrize("shape", SHAPES)
def test_palm_convention_matches_flop_counter(shape):
    """PaLM's 6·N_matmul + 12·L·d_attn·T counts the full attention square, as matmuls do."""
    arch, batch, seq = SHAPES[shape], 2, 64
    ours = sum(flops_per_token(arch, "palm", seq).values()) * batch * seq
    assert ours == pytest.approx(counted_training_flops(arch, batch, seq), rel=0.01)
