#!/usr/bin/env python3
"""Build tiny random gpt-oss checkpoints in the exact Hugging Face MXFP4 layout and HF reference outputs.

Owns: tools/make_fixtures.py -> Tests/Fixtures/models/<model>/ (checkpoint) and .../reference/ (HF outputs).
The file format is a contract with the Swift loader/forward tests; it is documented in
Tests/Fixtures/models/README.md. Not run by CI.

Usage (CPU only, ~1 minute):
    python3 -m venv .venv-fixtures && .venv-fixtures/bin/pip install torch transformers safetensors
    .venv-fixtures/bin/python tools/make_fixtures.py [--out Tests/Fixtures/models] [--only NAME ...]

What it does, per model:
  1. Draws bf16 weights (numpy, fixed seed) and MXFP4 expert weights directly as random FP4 code bytes plus
     E8M0 scale bytes, and writes config.json (+ generation_config.json) and safetensors (single file or shards
     with model.safetensors.index.json) exactly as openai/gpt-oss-20b ships them, scaled down.
  2. Loads the checkpoint with transformers GptOssForCausalLM on CPU: float32, Mxfp4Config(dequantize=True),
     eager attention, eager experts.
  3. Checks: every bf16 tensor loaded bit-exactly; every expert matrix HF dequantized equals a numpy decode of the
     written bytes bit-exactly; KV-cached greedy logits match a full pass.
  4. For each case: full-pass logits of the prompt, greedy continuation by a KV-cached loop (and its logits),
     margins (greedy top1-top2, router k-th minus (k+1)-th); prompts are redrawn until every margin >= 1e-3.
  5. For the longest case: per-layer residual stream [L+1, T, H] from forward hooks and router top-k picks.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

MIN_MARGIN = 1e-3
GREEDY_STEPS = 12

# FP4 E2M1 code -> value (spec §2.2). Bit 3 is the sign.
FP4_VALUES = np.array(
    [+0.0, +0.5, +1.0, +1.5, +2.0, +3.0, +4.0, +6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0],
    dtype=np.float32,
)


@dataclass
class ModelSpec:
    name: str
    seed: int
    layers: int
    hidden: int  # H, multiple of 32
    intermediate: int  # I, multiple of 32
    heads: int  # nH
    kv_heads: int  # nKV
    head_dim: int  # d
    experts: int  # E
    top_k: int
    sliding_window: int
    vocab: int
    rope_theta: float
    rope_factor: float
    beta_fast: float
    beta_slow: float
    original_max_pos: int
    rms_norm_eps: float
    swiglu_limit: float = 7.0
    # Sharding: None = single model.safetensors; else (number of files, zero_based_names).
    # The real gpt-oss-20b uses zero-based names: model-00000-of-00002 .. model-00002-of-00002 (3 files).
    shards: tuple[int, bool] | None = None
    # Target std of the gate_up pre-activations (so some of them pass the swiglu clamp).
    gate_up_std: float = 3.0
    prompt_lengths: list[int] = field(default_factory=lambda: [1, 7, 40])
    notes: str = ""


MODELS = [
    ModelSpec(
        name="tiny-a",
        seed=1001,
        layers=2,
        hidden=64,
        intermediate=64,
        heads=4,
        kv_heads=2,
        head_dim=16,
        experts=4,
        top_k=1,
        sliding_window=4,
        vocab=512,
        rope_theta=10000.0,
        rope_factor=4.0,
        beta_fast=16.0,
        beta_slow=2.0,
        original_max_pos=64,
        rms_norm_eps=1e-6,
        shards=None,
        prompt_lengths=[1, 3, 40],
        notes="top-1 routing, GQA 2, d=16, window 4, YaRN low end clamped to 0, eps 1e-6",
    ),
    ModelSpec(
        name="tiny-b",
        seed=2002,
        layers=3,
        hidden=96,
        intermediate=128,
        heads=8,
        kv_heads=2,
        head_dim=32,
        experts=8,
        top_k=2,
        sliding_window=8,
        vocab=1024,
        rope_theta=150000.0,
        rope_factor=32.0,
        beta_fast=32.0,
        beta_slow=1.0,
        original_max_pos=4096,
        rms_norm_eps=1e-5,
        shards=(3, True),
        prompt_lengths=[1, 6, 40],
        notes="real gpt-oss RoPE parameters, odd layer count, 3 zero-based shards like gpt-oss-20b",
    ),
    ModelSpec(
        name="tiny-c",
        seed=3003,
        layers=4,
        hidden=128,
        intermediate=96,
        heads=8,
        kv_heads=1,
        head_dim=64,
        experts=16,
        top_k=4,
        sliding_window=16,
        vocab=2048,
        rope_theta=50000.0,
        rope_factor=8.0,
        beta_fast=24.0,
        beta_slow=1.5,
        original_max_pos=256,
        rms_norm_eps=1e-5,
        shards=(2, False),
        prompt_lengths=[1, 15, 40],
        notes="top-4 of 16 experts, GQA 8 (one KV head), d=64 like the real model, I != H, 2 one-based shards",
    ),
]


# ----------------------------------------------------------------------------------------------------------
# Config


def build_config(s: ModelSpec) -> dict:
    """config.json with the same keys as openai/gpt-oss-20b (values scaled down)."""
    layer_types = ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(s.layers)]
    return {
        "architectures": ["GptOssForCausalLM"],
        "attention_bias": True,
        "attention_dropout": 0.0,
        "eos_token_id": s.vocab - 2,
        "experts_per_token": s.top_k,
        "head_dim": s.head_dim,
        "hidden_act": "silu",
        "hidden_size": s.hidden,
        "initial_context_length": s.original_max_pos,
        "initializer_range": 0.02,
        "intermediate_size": s.intermediate,
        "layer_types": layer_types,
        "max_position_embeddings": int(s.original_max_pos * s.rope_factor),
        "model_type": "gpt_oss",
        "num_attention_heads": s.heads,
        "num_experts_per_tok": s.top_k,
        "num_hidden_layers": s.layers,
        "num_key_value_heads": s.kv_heads,
        "num_local_experts": s.experts,
        "output_router_logits": False,
        "pad_token_id": s.vocab - 1,
        "quantization_config": {
            "modules_to_not_convert": [
                "model.layers.*.self_attn",
                "model.layers.*.mlp.router",
                "model.embed_tokens",
                "lm_head",
            ],
            "quant_method": "mxfp4",
        },
        "rms_norm_eps": s.rms_norm_eps,
        "rope_scaling": {
            "beta_fast": s.beta_fast,
            "beta_slow": s.beta_slow,
            "factor": s.rope_factor,
            "original_max_position_embeddings": s.original_max_pos,
            "rope_type": "yarn",
            "truncate": False,
        },
        # The real config writes an integer (150000); keep that JSON shape.
        "rope_theta": int(s.rope_theta) if float(s.rope_theta).is_integer() else s.rope_theta,
        "router_aux_loss_coef": 0.9,
        "sliding_window": s.sliding_window,
        "swiglu_limit": s.swiglu_limit,
        "tie_word_embeddings": False,
        "transformers_version": "4.55.0.dev0",
        "use_cache": True,
        "vocab_size": s.vocab,
    }


def build_generation_config(s: ModelSpec) -> dict:
    return {
        "bos_token_id": s.vocab - 3,
        "do_sample": True,
        "eos_token_id": [s.vocab - 2, s.vocab - 1],
        "pad_token_id": s.vocab - 1,
        "transformers_version": "4.55.0.dev0",
    }


# ----------------------------------------------------------------------------------------------------------
# Weights


def bf16(a: np.ndarray) -> torch.Tensor:
    """float32 numpy -> bf16 torch tensor (round to nearest even)."""
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(torch.bfloat16)


def mxfp4_decode(blocks: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """[..., R, G, 16] u8 codes + [..., R, G] u8 E8M0 scales -> [..., R, G*32] float32, spec §2.2."""
    lo = FP4_VALUES[blocks & 0x0F]
    hi = FP4_VALUES[blocks >> 4]
    vals = np.stack([lo, hi], axis=-1).reshape(*blocks.shape[:-1], 32)  # element 2b = low, 2b+1 = high
    mult = np.ldexp(np.float32(1.0), scales.astype(np.int32) - 127).astype(np.float32)
    w = vals * mult[..., None]
    return w.reshape(*blocks.shape[:-2], blocks.shape[-2] * 32)


def mxfp4_random(rng: np.random.Generator, e: int, rows: int, cols: int, target_std: float, fan_in: int):
    """Random MXFP4 tensor whose dequantized matrix W satisfies std(W·x) ~ target_std for x with unit rms.

    Codes are uniform random bytes (all 16 FP4 codes, both signs, +-0). Scale bytes are drawn per block from
    {s0-1, s0, s0+1}, mean of 2^(2(s-127)) = 1.75·4^(s0-127).
    """
    assert cols % 32 == 0
    var_fp4 = float(np.mean(FP4_VALUES.astype(np.float64) ** 2))  # 8.5625
    want_scale_sq = target_std**2 / (fan_in * var_fp4 * 1.75)
    s0 = int(round(127 + 0.5 * math.log2(want_scale_sq)))
    blocks = rng.integers(0, 256, size=(e, rows, cols // 32, 16), dtype=np.uint8)
    scales = rng.integers(s0 - 1, s0 + 2, size=(e, rows, cols // 32)).astype(np.uint8)
    return blocks, scales


def make_weights(s: ModelSpec) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(s.seed)
    H, I, E, d = s.hidden, s.intermediate, s.experts, s.head_dim
    qd, kvd = s.heads * d, s.kv_heads * d
    t: dict[str, torch.Tensor] = {}

    def normal(*shape, std=1.0, mean=0.0):
        return rng.normal(mean, std, size=shape).astype(np.float32)

    t["model.embed_tokens.weight"] = bf16(normal(s.vocab, H))
    for li in range(s.layers):
        p = f"model.layers.{li}."
        t[p + "input_layernorm.weight"] = bf16(normal(H, std=0.2, mean=1.0))
        t[p + "self_attn.q_proj.weight"] = bf16(normal(qd, H, std=1.0 / math.sqrt(H)))
        t[p + "self_attn.q_proj.bias"] = bf16(normal(qd, std=0.5))
        t[p + "self_attn.k_proj.weight"] = bf16(normal(kvd, H, std=1.0 / math.sqrt(H)))
        t[p + "self_attn.k_proj.bias"] = bf16(normal(kvd, std=0.5))
        t[p + "self_attn.v_proj.weight"] = bf16(normal(kvd, H, std=1.0 / math.sqrt(H)))
        t[p + "self_attn.v_proj.bias"] = bf16(normal(kvd, std=0.5))
        t[p + "self_attn.o_proj.weight"] = bf16(normal(H, qd, std=1.0 / math.sqrt(qd)))
        t[p + "self_attn.o_proj.bias"] = bf16(normal(H, std=0.3))
        t[p + "self_attn.sinks"] = bf16(normal(s.heads, std=1.0))
        t[p + "post_attention_layernorm.weight"] = bf16(normal(H, std=0.2, mean=1.0))
        t[p + "mlp.router.weight"] = bf16(normal(E, H, std=2.0 / math.sqrt(H)))
        t[p + "mlp.router.bias"] = bf16(normal(E, std=0.5))
        # gate_up: rows interleaved gate(2j) / up(2j+1); [E, 2I, H/32, 16] / [E, 2I, H/32]
        b, sc = mxfp4_random(rng, E, 2 * I, H, target_std=s.gate_up_std, fan_in=H)
        t[p + "mlp.experts.gate_up_proj_blocks"] = torch.from_numpy(b)
        t[p + "mlp.experts.gate_up_proj_scales"] = torch.from_numpy(sc)
        t[p + "mlp.experts.gate_up_proj_bias"] = bf16(normal(E, 2 * I, std=1.0))
        # down: [E, H, I/32, 16] / [E, H, I/32]; GLU outputs have rms ~ 4-5, aim for O(1) outputs.
        b, sc = mxfp4_random(rng, E, H, I, target_std=1.0 / 4.5, fan_in=I)
        t[p + "mlp.experts.down_proj_blocks"] = torch.from_numpy(b)
        t[p + "mlp.experts.down_proj_scales"] = torch.from_numpy(sc)
        t[p + "mlp.experts.down_proj_bias"] = bf16(normal(E, H, std=0.3))
    t["model.norm.weight"] = bf16(normal(H, std=0.2, mean=1.0))
    t["lm_head.weight"] = bf16(normal(s.vocab, H, std=3.0 / math.sqrt(H)))
    return t


# ----------------------------------------------------------------------------------------------------------
# Checkpoint writing


def write_checkpoint(s: ModelSpec, tensors: dict[str, torch.Tensor], out: Path) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("*.safetensors"):
        f.unlink()
    idx = out / "model.safetensors.index.json"
    if idx.exists():
        idx.unlink()
    (out / "config.json").write_text(json.dumps(build_config(s), indent=2, sort_keys=True) + "\n")
    (out / "generation_config.json").write_text(json.dumps(build_generation_config(s), indent=2, sort_keys=True) + "\n")
    meta = {"format": "pt"}
    if s.shards is None:
        save_file(tensors, str(out / "model.safetensors"), metadata=meta)
        return
    n, zero_based = s.shards
    names = list(tensors.keys())  # insertion order: embed, layer 0.., norm, lm_head -> layers straddle shards
    total = sum(tensors[k].numel() * tensors[k].element_size() for k in names)
    per = total / n
    groups: list[list[str]] = [[] for _ in range(n)]
    acc = 0
    for k in names:
        gi = min(int(acc // per), n - 1)
        groups[gi].append(k)
        acc += tensors[k].numel() * tensors[k].element_size()
    last = n - 1 if zero_based else n
    weight_map = {}
    for gi, g in enumerate(groups):
        assert g, "empty shard"
        num = gi if zero_based else gi + 1
        fname = f"model-{num:05d}-of-{last:05d}.safetensors"
        save_file({k: tensors[k] for k in g}, str(out / fname), metadata=meta)
        for k in g:
            weight_map[k] = fname
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    idx.write_text(json.dumps(index, indent=2) + "\n")


# ----------------------------------------------------------------------------------------------------------
# HF reference


def load_hf(path: Path):
    from transformers import GptOssForCausalLM, Mxfp4Config

    model = GptOssForCausalLM.from_pretrained(
        str(path),
        quantization_config=Mxfp4Config(dequantize=True),
        dtype=torch.float32,
        attn_implementation="eager",
        experts_implementation="eager",
    )
    model.eval()
    return model


def check_weights(s: ModelSpec, model, tensors: dict[str, torch.Tensor]) -> dict:
    """Every bf16 tensor bit-exact in fp32; every dequantized expert matrix == numpy decode of our bytes."""
    sd = dict(model.named_parameters())
    checked_bf16 = 0
    for k, v in tensors.items():
        if v.dtype != torch.bfloat16:
            continue
        got = sd[k].detach()
        assert got.dtype == torch.float32, (k, got.dtype)
        if not torch.equal(got, v.float()):
            raise SystemExit(f"{s.name}: {k} not loaded bit-exactly")
        checked_bf16 += 1
    checked_mx = 0
    for li in range(s.layers):
        p = f"model.layers.{li}.mlp.experts."
        ex = model.model.layers[li].mlp.experts
        for proj, hf in (("gate_up_proj", ex.gate_up_proj), ("down_proj", ex.down_proj)):
            w = mxfp4_decode(tensors[p + proj + "_blocks"].numpy(), tensors[p + proj + "_scales"].numpy())  # [E,out,in]
            hf_w = hf.detach().numpy().transpose(0, 2, 1)  # HF keeps [E, in, out]
            if hf_w.shape != w.shape or not np.array_equal(hf_w.view(np.uint32), w.view(np.uint32)):
                diff = np.abs(hf_w - w).max() if hf_w.shape == w.shape else "shape"
                raise SystemExit(f"{s.name}: layer {li} {proj} dequantization differs from numpy decode ({diff})")
            checked_mx += 1
    return {"bf16_tensors_bit_exact": checked_bf16, "mxfp4_matrices_bit_exact": checked_mx}


class Probe:
    """Forward hooks: router logits of every call, swiglu clamp statistics, per-layer residual stream."""

    def __init__(self, model, s: ModelSpec):
        self.s = s
        self.router_calls: list[list[torch.Tensor]] = []  # per forward call: per layer [T, E]
        self.clamp_gate = 0
        self.clamp_up = 0
        self.glu_total = 0
        self.residual: list[torch.Tensor] = []
        self.capture_residual = False
        self._cur: list[torch.Tensor] = []
        m = model.model
        m.embed_tokens.register_forward_hook(self._on_embed)
        for layer in m.layers:
            layer.mlp.router.register_forward_hook(self._on_router)
            layer.register_forward_hook(self._on_layer)
            ex = layer.mlp.experts
            orig = ex._apply_gate
            limit = s.swiglu_limit

            def patched(gate_up, _orig=orig, _limit=limit):
                g, u = gate_up[..., ::2], gate_up[..., 1::2]
                self.clamp_gate += int((g > _limit).sum())
                self.clamp_up += int((u.abs() > _limit).sum())
                self.glu_total += g.numel()
                return _orig(gate_up)

            ex._apply_gate = patched

    def _on_embed(self, mod, inp, out):
        self._cur = []
        self.router_calls.append(self._cur)
        if self.capture_residual:
            self.residual = [out[0].detach().clone()]

    def _on_router(self, mod, inp, out):
        self._cur.append(out[0].detach().clone())

    def _on_layer(self, mod, inp, out):
        if self.capture_residual:
            h = out[0] if isinstance(out, tuple) else out
            self.residual.append(h[0].detach().clone())

    def router_margin(self, since: int = 0) -> float:
        k, E = self.s.top_k, self.s.experts
        m = math.inf
        for call in self.router_calls[since:]:
            for logits in call:
                srt = torch.sort(logits.reshape(-1, E), dim=-1, descending=True).values
                m = min(m, float((srt[:, k - 1] - srt[:, k]).min()))
        return m


def top2_margin(logits: torch.Tensor) -> float:
    srt = torch.sort(logits, dim=-1, descending=True).values
    return float((srt[..., 0] - srt[..., 1]).min())


@torch.no_grad()
def run_case(model, probe: Probe, s: ModelSpec, prompt: list[int]):
    from transformers import DynamicCache

    start = len(probe.router_calls)
    ids = torch.tensor([prompt])
    full = model(input_ids=ids, use_cache=False).logits[0]  # [T, V]
    # KV-cached greedy loop: prefill, then one token at a time (what an engine does).
    cache = DynamicCache(config=model.config)
    out = model(input_ids=ids, cache=cache, use_cache=True)
    step_logits = [out.logits[0, -1].clone()]
    greedy: list[int] = []
    for i in range(GREEDY_STEPS):
        tok = int(torch.argmax(step_logits[-1]))
        greedy.append(tok)
        if i == GREEDY_STEPS - 1:
            break
        pos = torch.tensor([[len(prompt) + i]])
        out = model(input_ids=torch.tensor([[tok]]), position_ids=pos, cache=cache, use_cache=True)
        step_logits.append(out.logits[0, -1].clone())
    greedy_logits = torch.stack(step_logits)  # [N, V]
    # Full pass over prompt + greedy[:-1]: its last N rows must reproduce the cached step logits.
    ext = torch.tensor([prompt + greedy[:-1]])
    full_ext = model(input_ids=ext, use_cache=False).logits[0]
    ref_rows = full_ext[len(prompt) - 1 :]
    kv_diff = float((ref_rows - greedy_logits).abs().max())
    prompt_diff = float((full_ext[: len(prompt)] - full).abs().max())
    # Greedy ids must also be the argmax of the full-pass rows.
    assert [int(x) for x in ref_rows.argmax(-1)] == greedy, "full-pass argmax differs from cached greedy"
    return {
        "full": full,
        "greedy": greedy,
        "greedy_logits": greedy_logits,
        "greedy_margin": top2_margin(greedy_logits),
        "router_margin": probe.router_margin(start),
        "kv_vs_full_max_abs_diff": kv_diff,
        "prompt_vs_extended_max_abs_diff": prompt_diff,
    }


def write_f32(path: Path, t: torch.Tensor) -> None:
    a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4")
    path.write_bytes(a.tobytes())


def rope_info(model, s: ModelSpec) -> dict:
    re = model.model.rotary_emb
    d = s.head_dim

    def corr(rot):
        return d * math.log(s.original_max_pos / (rot * 2 * math.pi)) / (2 * math.log(s.rope_theta))

    low, high = corr(s.beta_fast), corr(s.beta_slow)
    return {
        "inv_freq": [float(x) for x in re.inv_freq.tolist()],
        "attention_scaling": float(re.attention_scaling),
        "yarn_low_unclamped": low,
        "yarn_high_unclamped": high,
        "yarn_low": max(low, 0.0),
        "yarn_high": min(high, d - 1.0),
    }


def build_model(s: ModelSpec, root: Path, versions: dict) -> dict:
    mdir = root / s.name
    tensors = make_weights(s)
    write_checkpoint(s, tensors, mdir)
    model = load_hf(mdir)
    checks = check_weights(s, model, tensors)
    probe = Probe(model, s)

    ref = mdir / "reference"
    if ref.exists():
        shutil.rmtree(ref)
    ref.mkdir(parents=True)
    cases = []
    summary = {"name": s.name, "checks": checks, "cases": []}
    longest = max(s.prompt_lengths)
    for ci, T in enumerate(s.prompt_lengths):
        name = f"prompt{T}"
        for attempt in range(200):
            prng = np.random.default_rng([s.seed, ci, attempt])
            prompt = [int(x) for x in prng.integers(0, s.vocab, size=T)]
            r = run_case(model, probe, s, prompt)
            if r["greedy_margin"] >= MIN_MARGIN and r["router_margin"] >= MIN_MARGIN:
                break
        else:
            raise SystemExit(f"{s.name}/{name}: no prompt with margins >= {MIN_MARGIN} in 200 draws")
        write_f32(ref / f"{name}.logits.f32", r["full"])
        write_f32(ref / f"{name}.greedy.f32", r["greedy_logits"])
        V = s.vocab
        case = {
            "name": name,
            "prompt_ids": prompt,
            "logits_file": f"{name}.logits.f32",
            "logits_shape": [T, V],
            "greedy_ids": r["greedy"],
            "greedy_logits_file": f"{name}.greedy.f32",
            "greedy_logits_shape": [GREEDY_STEPS, V],
            "min_greedy_margin": r["greedy_margin"],
            "min_router_margin": r["router_margin"],
            "kv_vs_full_max_abs_diff": r["kv_vs_full_max_abs_diff"],
            "max_abs_logit": float(max(r["full"].abs().max(), r["greedy_logits"].abs().max())),
            "prompt_draw_attempt": attempt,
        }
        if T == longest:
            # Per-layer residual stream and router picks for this prompt (one more full pass with hooks on).
            probe.capture_residual = True
            start = len(probe.router_calls)
            with torch.no_grad():
                model(input_ids=torch.tensor([prompt]), use_cache=False)
            probe.capture_residual = False
            hs = torch.stack(probe.residual)  # [L+1, T, H]
            assert hs.shape == (s.layers + 1, T, s.hidden), hs.shape
            write_f32(ref / "hidden_states.f32", hs)
            case["hidden_states_file"] = "hidden_states.f32"
            case["hidden_states_shape"] = [s.layers + 1, T, s.hidden]
            routers = probe.router_calls[start]
            picks = []
            for logits in routers:
                top = torch.topk(logits, s.top_k, dim=-1)
                w = torch.softmax(top.values, dim=-1)
                picks.append({"experts": top.indices.tolist(), "weights": w.tolist()})
            (ref / "router.json").write_text(
                json.dumps({"case": name, "layers": picks}, separators=(",", ":")) + "\n"
            )
            case["router_file"] = "router.json"
        cases.append(case)
        summary["cases"].append(
            {k: case[k] for k in ("name", "min_greedy_margin", "min_router_margin", "kv_vs_full_max_abs_diff", "max_abs_logit")}
            | {"prompt_vs_extended_max_abs_diff": r["prompt_vs_extended_max_abs_diff"]}
        )
    doc = {
        "model": s.name,
        "transformers_version": versions["transformers"],
        "torch_version": versions["torch"],
        "rope": rope_info(model, s),
        "swiglu_clamp_stats": {
            "gate_above_limit": probe.clamp_gate,
            "up_outside_limit": probe.clamp_up,
            "total_units": probe.glu_total,
        },
        "cases": cases,
    }
    (ref / "cases.json").write_text(json.dumps(doc, indent=1) + "\n")
    summary["swiglu_clamp_stats"] = doc["swiglu_clamp_stats"]
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    repo = Path(__file__).resolve().parent.parent
    ap.add_argument("--out", type=Path, default=repo / "Tests" / "Fixtures" / "models")
    ap.add_argument("--only", nargs="*", help="model names to (re)build")
    args = ap.parse_args()

    import transformers

    torch.manual_seed(0)
    torch.set_num_threads(1)  # deterministic reduction order; the models are tiny
    versions = {"torch": torch.__version__, "transformers": transformers.__version__}
    args.out.mkdir(parents=True, exist_ok=True)
    for s in MODELS:
        if args.only and s.name not in args.only:
            continue
        summary = build_model(s, args.out, versions)
        print(json.dumps(summary, indent=1))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
