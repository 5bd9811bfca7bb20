#!/usr/bin/env python3
"""Independent float64 re-implementation of the gpt-oss forward pass (numpy only), checked against the fixtures.

Owns: tools/check_fixtures.py. Reads only what the Swift side reads: config.json, the safetensors files
(parsed by hand, following model.safetensors.index.json when present) and reference/cases.json. It follows
/work/shared/docs/gpt-oss-spec.md §2-§3, never transformers, so it cross-checks both the fixture format
(everything needed is in the files) and the HF reference numbers. Not run by CI.

Usage: python3 tools/check_fixtures.py [--root Tests/Fixtures/models] [--only NAME ...]
Prints, per case, max |logit diff| vs the HF reference for the prompt logits and the greedy-step logits,
whether greedy ids / router picks agree, and the per-layer residual-stream relative L2 error.
"""

from __future__ import annotations

import argparse
import json
import math
import struct
from pathlib import Path

import numpy as np

FP4 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6], dtype=np.float64)


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        buf = raw[base + b : base + e]
        shape = info["shape"]
        if info["dtype"] == "BF16":
            u16 = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = u16.view(np.float32).astype(np.float64)
        elif info["dtype"] == "U8":
            arr = np.frombuffer(buf, dtype=np.uint8)
        else:
            raise ValueError(f"{path.name}: {name}: unexpected dtype {info['dtype']}")
        out[name] = arr.reshape(shape)
    return out


def load_checkpoint(d: Path) -> dict[str, np.ndarray]:
    idx = d / "model.safetensors.index.json"
    tensors: dict[str, np.ndarray] = {}
    if idx.exists():
        wm = json.loads(idx.read_text())["weight_map"]
        for f in sorted(set(wm.values())):
            tensors.update(read_safetensors(d / f))
        assert set(tensors) == set(wm), "index and shards disagree"
    else:
        tensors = read_safetensors(d / "model.safetensors")
    return tensors


def mxfp4(blocks: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """[E, R, G, 16], [E, R, G] -> [E, R, 32G] float64 ([out, in] orientation)."""
    lo, hi = FP4[blocks & 15], FP4[blocks >> 4]
    v = np.stack([lo, hi], -1).reshape(*blocks.shape[:-1], 32)
    v = v * np.ldexp(1.0, scales.astype(np.int64) - 127)[..., None]
    return v.reshape(*blocks.shape[:-2], -1)


class Model:
    def __init__(self, d: Path):
        self.cfg = c = json.loads((d / "config.json").read_text())
        self.t = load_checkpoint(d)
        self.L, self.H = c["num_hidden_layers"], c["hidden_size"]
        self.nH, self.nKV, self.hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        self.E, self.k = c["num_local_experts"], c["num_experts_per_tok"]
        self.eps, self.limit = c["rms_norm_eps"], c["swiglu_limit"]
        self.window = c["sliding_window"]
        self.sliding = [lt == "sliding_attention" for lt in c["layer_types"]]
        rs = c["rope_scaling"]
        assert rs["rope_type"] == "yarn"
        d_, theta, f = self.hd, c["rope_theta"], rs["factor"]
        L0, bf, bs = rs["original_max_position_embeddings"], rs["beta_fast"], rs["beta_slow"]

        def corr(rot):
            return d_ * math.log(L0 / (rot * 2 * math.pi)) / (2 * math.log(theta))

        low, high = corr(bf), corr(bs)
        if rs.get("truncate", True):
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, d_ - 1)
        if low == high:
            high += 0.001
        j = np.arange(d_ // 2, dtype=np.float64)
        base = theta ** (2 * j / d_)
        ramp = np.clip((j - low) / (high - low), 0, 1)
        self.inv_freq = (1 / (f * base)) * ramp + (1 / base) * (1 - ramp)
        self.mscale = 0.1 * math.log(f) + 1 if f > 1 else 1.0
        self.experts = []
        for li in range(self.L):
            p = f"model.layers.{li}.mlp.experts."
            w1 = mxfp4(self.t[p + "gate_up_proj_blocks"], self.t[p + "gate_up_proj_scales"])
            w2 = mxfp4(self.t[p + "down_proj_blocks"], self.t[p + "down_proj_scales"])
            self.experts.append((w1, self.t[p + "gate_up_proj_bias"], w2, self.t[p + "down_proj_bias"]))

    def rms(self, x, w):
        return w * (x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps))

    def rope(self, x, pos):  # x [T, heads, d]
        ang = pos[:, None] * self.inv_freq[None, :]  # [T, d/2]
        c, s = np.cos(ang) * self.mscale, np.sin(ang) * self.mscale
        h = self.hd // 2
        x1, x2 = x[..., :h], x[..., h:]
        c, s = c[:, None, :], s[:, None, :]
        return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], -1)

    def forward(self, ids: list[int]):
        t, T = self.t, len(ids)
        pos = np.arange(T, dtype=np.float64)
        h = t["model.embed_tokens.weight"][ids]
        states, picks = [h.copy()], []
        grp = self.nH // self.nKV
        for li in range(self.L):
            p = f"model.layers.{li}."
            a = self.rms(h, t[p + "input_layernorm.weight"])

            def lin(name, x):
                return x @ t[p + name + ".weight"].T + t[p + name + ".bias"]

            q = self.rope(lin("self_attn.q_proj", a).reshape(T, self.nH, self.hd), pos)
            k = self.rope(lin("self_attn.k_proj", a).reshape(T, self.nKV, self.hd), pos)
            v = lin("self_attn.v_proj", a).reshape(T, self.nKV, self.hd)
            sinks = t[p + "self_attn.sinks"]
            o = np.zeros((T, self.nH, self.hd))
            for i in range(self.nH):
                g = i // grp
                s = (q[:, i, :] @ k[:, g, :].T) / math.sqrt(self.hd)  # [T, T]
                tt, uu = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
                allowed = uu <= tt
                if self.sliding[li]:
                    allowed &= uu > tt - self.window
                s = np.where(allowed, s, -np.inf)
                m = np.maximum(s.max(-1), sinks[i])
                e = np.exp(s - m[:, None])
                z = e.sum(-1) + np.exp(sinks[i] - m)
                o[:, i, :] = (e / z[:, None]) @ v[:, g, :]
            h = h + lin("self_attn.o_proj", o.reshape(T, -1))
            zz = self.rms(h, t[p + "post_attention_layernorm.weight"])
            r = zz @ t[p + "mlp.router.weight"].T + t[p + "mlp.router.bias"]  # [T, E]
            idx = np.argsort(-r, axis=-1, kind="stable")[:, : self.k]
            w1, b1, w2, b2 = self.experts[li]
            moe = np.zeros_like(h)
            for ti in range(T):
                sel = r[ti, idx[ti]]
                wts = np.exp(sel - sel.max())
                wts /= wts.sum()
                for e_, we in zip(idx[ti], wts):
                    u = w1[e_] @ zz[ti] + b1[e_]
                    gate = np.minimum(u[0::2], self.limit)
                    up = np.clip(u[1::2], -self.limit, self.limit)
                    act = gate / (1 + np.exp(-1.702 * gate)) * (up + 1)
                    moe[ti] += we * (w2[e_] @ act + b2[e_])
            picks.append(idx)
            h = h + moe
            states.append(h.copy())
        logits = self.rms(h, t["model.norm.weight"]) @ t["lm_head.weight"].T
        return logits, np.stack(states), picks


def f32(path: Path, shape) -> np.ndarray:
    return np.fromfile(path, dtype="<f4").reshape(shape).astype(np.float64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    repo = Path(__file__).resolve().parent.parent
    ap.add_argument("--root", type=Path, default=repo / "Tests" / "Fixtures" / "models")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    worst = 0.0
    for d in sorted(p for p in args.root.iterdir() if (p / "config.json").exists()):
        if args.only and d.name not in args.only:
            continue
        m = Model(d)
        ref = json.loads((d / "reference" / "cases.json").read_text())
        for c in ref["cases"]:
            prompt, greedy = c["prompt_ids"], c["greedy_ids"]
            want = f32(d / "reference" / c["logits_file"], c["logits_shape"])
            want_g = f32(d / "reference" / c["greedy_logits_file"], c["greedy_logits_shape"])
            logits, states, picks = m.forward(prompt + greedy[:-1])
            T = len(prompt)
            got, got_g = logits[:T], logits[T - 1 :]
            dp, dg = np.abs(got - want).max(), np.abs(got_g - want_g).max()
            scale = max(np.abs(want).max(), np.abs(want_g).max())
            worst = max(worst, max(dp, dg) / scale)
            ok_greedy = list(got_g.argmax(-1)) == greedy
            line = (
                f"{d.name}/{c['name']}: prompt max|d|={dp:.2e} greedy-steps max|d|={dg:.2e} "
                f"(max|ref|={scale:.1f}, rel={max(dp, dg) / scale:.1e}) greedy ids {'match' if ok_greedy else 'DIFFER'}"
            )
            if "hidden_states_file" in c:
                hs = f32(d / "reference" / c["hidden_states_file"], c["hidden_states_shape"])
                rel = [
                    float(np.linalg.norm(states[i, :T] - hs[i]) / np.linalg.norm(hs[i])) for i in range(hs.shape[0])
                ]
                line += f"; residual rel-L2 max {max(rel):.1e}"
                rj = json.loads((d / "reference" / c["router_file"]).read_text())
                same = all(
                    [sorted(x) for x in np.asarray(picks[li][:T]).tolist()]
                    == [sorted(x) for x in rj["layers"][li]["experts"]]
                    for li in range(m.L)
                )
                line += f"; router picks {'match' if same else 'DIFFER'}"
            print(line, flush=True)
    print(f"worst max|diff|/max|ref| = {worst:.2e}")


if __name__ == "__main__":
    main()
