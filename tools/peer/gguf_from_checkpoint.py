#!/usr/bin/env python3
"""Write a gpt-oss checkpoint directory (config.json + safetensors shards, MXFP4 experts) as a GGUF file
that llama.cpp loads, so its `llama-bench` can be run on exactly the bytes our `gptoss bench` reads
(the issue-7 peer measurement; docs/perf-notes.md, CPU "Version 6").

Only the model's tensors are real. The vocabulary is a stand-in of the right size (llama-bench feeds token
ids, never text): the 256 GPT-2 byte-level symbols, then placeholders; one merge. Attention, router,
embedding and lm_head stay bf16 (1-D tensors f32, as llama.cpp's own converter writes them); the experts
stay MXFP4, repacked to GGUF's 17-byte blocks (E8M0 scale byte, then the 16 code bytes in GGUF's nibble
order).

Usage: python3 tools/peer/gguf_from_checkpoint.py /work/models-20b /tmp/m20b.gguf
Needs numpy and the `gguf` package (pip install gguf; or llama.cpp's gguf-py on PYTHONPATH).
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import gguf


def load_safetensors(directory: Path) -> dict:
    """name -> numpy memmap view (bf16 as uint16, u8 as uint8) for every tensor in the shards."""
    dtypes = {"BF16": np.uint16, "U8": np.uint8, "F32": np.float32}
    tensors = {}
    for shard in sorted(directory.glob("*.safetensors")):
        with open(shard, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        raw = np.memmap(shard, dtype=np.uint8, mode="r")
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            dt = dtypes[info["dtype"]]
            tensors[name] = raw[8 + n + a: 8 + n + b].view(dt).reshape(info["shape"])
    return tensors


def ggml_nibble_order(codes: np.ndarray) -> np.ndarray:
    """HF MXFP4 block bytes (byte j: element 2j low nibble, 2j+1 high) -> GGUF's order (byte j: element j
    low nibble, element j + 16 high nibble)."""
    lo = codes & 0x0F            # elements 0, 2, 4, ...
    hi = codes >> 4              # elements 1, 3, 5, ...
    elems = np.empty(codes.shape[:-1] + (32,), dtype=np.uint8)
    elems[..., 0::2] = lo
    elems[..., 1::2] = hi
    return (elems[..., :16] | (elems[..., 16:] << 4)).astype(np.uint8)


def mxfp4(blocks: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """[..., nb, 16] codes + [..., nb] scales -> [..., nb * 17] GGUF MXFP4 bytes."""
    out = np.concatenate([scales[..., None], ggml_nibble_order(blocks)], axis=-1)
    return np.ascontiguousarray(out.reshape(out.shape[:-2] + (out.shape[-2] * 17,)))


def main() -> None:
    src, dst = Path(sys.argv[1]), sys.argv[2]
    cfg = json.loads((src / "config.json").read_text())
    t = load_safetensors(src)
    L, H, V = cfg["num_hidden_layers"], cfg["hidden_size"], cfg["vocab_size"]
    BF16, F32, MX = gguf.GGMLQuantizationType.BF16, gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.MXFP4

    w = gguf.GGUFWriter(dst, "gpt-oss")
    w.add_block_count(L)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(H)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_key_length(cfg["head_dim"])
    w.add_value_length(cfg["head_dim"])
    w.add_rope_dimension_count(cfg["head_dim"])
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_expert_count(cfg["num_local_experts"])
    w.add_expert_used_count(cfg["num_experts_per_tok"])
    w.add_expert_feed_forward_length(cfg["intermediate_size"])
    w.add_sliding_window(cfg["sliding_window"])
    rs = cfg["rope_scaling"]
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(rs["factor"])
    w.add_rope_scaling_orig_ctx_len(rs["original_max_position_embeddings"])

    # Stand-in vocabulary: GPT-2's byte-level alphabet first (llama.cpp maps bytes to these), then placeholders.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    tokens = [chr(c) for c in cs] + [f"<t{i}>" for i in range(256, V)]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-4o")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.NORMAL] * V)
    w.add_token_merges(["Ġ Ġ"])
    w.add_bos_token_id(cfg.get("pad_token_id", 0))
    w.add_eos_token_id(cfg["eos_token_id"])

    # Tensors are declared first (name, shape, type) and produced one at a time while writing, so the
    # repacked experts (≈ 10 GB for 20b) never sit in memory together.
    jobs = []   # (name, make) in file order

    def add(name, make, shape, dtype, raw):
        w.add_tensor_info(name, shape, np.dtype(dtype), int(np.prod(shape)) * np.dtype(dtype).itemsize, raw_dtype=raw)
        jobs.append(make)

    def bf16(name, key):
        add(name, lambda: np.ascontiguousarray(t[key]), t[key].shape, np.uint16, BF16)

    def f32(name, key, sel=slice(None)):   # bf16 bits -> f32
        add(name, lambda: (np.asarray(t[key][..., sel], dtype=np.uint32) << 16).view(np.float32),
            t[key][..., sel].shape, np.float32, F32)

    def mx(name, kb, ks, sel=slice(None)):
        shape = t[ks][:, sel].shape[:-1] + (t[ks].shape[-1] * 17,)
        add(name, lambda: mxfp4(t[kb][:, sel], t[ks][:, sel]), shape, np.uint8, MX)

    bf16("token_embd.weight", "model.embed_tokens.weight")
    f32("output_norm.weight", "model.norm.weight")
    bf16("output.weight", "lm_head.weight")
    for i in range(L):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        f32(b + "attn_norm.weight", p + "input_layernorm.weight")
        f32(b + "post_attention_norm.weight", p + "post_attention_layernorm.weight")
        for x in "qkv":
            bf16(b + f"attn_{x}.weight", p + f"self_attn.{x}_proj.weight")
            f32(b + f"attn_{x}.bias", p + f"self_attn.{x}_proj.bias")
        bf16(b + "attn_output.weight", p + "self_attn.o_proj.weight")
        f32(b + "attn_output.bias", p + "self_attn.o_proj.bias")
        f32(b + "attn_sinks.weight", p + "self_attn.sinks")
        bf16(b + "ffn_gate_inp.weight", p + "mlp.router.weight")
        f32(b + "ffn_gate_inp.bias", p + "mlp.router.bias")
        gu = (p + "mlp.experts.gate_up_proj_blocks", p + "mlp.experts.gate_up_proj_scales")
        mx(b + "ffn_gate_exps.weight", *gu, slice(0, None, 2))   # gate rows are the even rows of gate_up
        mx(b + "ffn_up_exps.weight", *gu, slice(1, None, 2))
        f32(b + "ffn_gate_exps.bias", p + "mlp.experts.gate_up_proj_bias", slice(0, None, 2))
        f32(b + "ffn_up_exps.bias", p + "mlp.experts.gate_up_proj_bias", slice(1, None, 2))
        mx(b + "ffn_down_exps.weight", p + "mlp.experts.down_proj_blocks", p + "mlp.experts.down_proj_scales")
        f32(b + "ffn_down_exps.bias", p + "mlp.experts.down_proj_bias")

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for k, make in enumerate(jobs):
        w.write_tensor_data(make())
        print(f"\r{k + 1}/{len(jobs)} tensors", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    w.close()


if __name__ == "__main__":
    main()
