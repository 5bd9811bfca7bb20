# PyTorch + transformers decode speed on a gpt-oss checkpoint (batch 1, greedy), for the ratio in
# BENCHMARKS.md. Run on the GPU machine by scripts/device/check-and-bench.sh: bench_torch.py DIR GEN.
import sys, time, torch
from transformers import AutoModelForCausalLM
path, gen = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 64
kw = dict(dtype=torch.bfloat16, device_map="cuda")
try:
    from transformers import Mxfp4Config
    kw["quantization_config"] = Mxfp4Config(dequantize=True)
except Exception:
    pass
t0 = time.time()
model = AutoModelForCausalLM.from_pretrained(path, **kw).eval()
print(f"load {time.time() - t0:.1f} s", flush=True)
ids = torch.randint(0, model.config.vocab_size, (1, 128), device="cuda")
with torch.no_grad():
    model.generate(ids, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    torch.cuda.synchronize(); t0 = time.time()
    model.generate(ids, max_new_tokens=gen, min_new_tokens=gen, do_sample=False)
    torch.cuda.synchronize(); dt = time.time() - t0
print(f"torch {torch.__version__} bf16 (experts dequantized) decode_tok_s={gen / dt:.1f}")
