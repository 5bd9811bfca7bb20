#!/usr/bin/env bash
# Engine + CLI on a GPU (carry the release binary as gptoss.xz beside this script, as check-and-bench.sh
# describes): tiny model on CUDA (generate, batch greedy == single runs, CPU and CUDA seeded sampling
# agree), then a synthetic 20b through batch mode for throughput. SKIP_20B=1 skips the latter.

set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE=/tmp/gptoss-cache
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
echo "== generate tiny cuda"
$BIN generate --model tiny --device cuda --max-tokens 300 --seed 1 "Hello" > /tmp/g.txt; echo "rc=$? bytes=$(wc -c < /tmp/g.txt)"
$BIN generate --model tiny --device auto --max-tokens 8 --temperature 0 --json "Hello"
echo "== batch greedy vs single (tiny, cuda)"
printf '%s\n' '{"prompt":"What is 2 + 2?","temperature":0,"max_tokens":24}' '{"prompt":"Name a colour.","temperature":0,"max_tokens":24}' '{"prompt":"Say hi","temperature":0,"max_tokens":24}' '{"prompt":"Tell me a long story about a dragon and a knight who meet at dawn.","temperature":0,"max_tokens":24}' > /tmp/in.jsonl
$BIN batch --model tiny --device cuda --input /tmp/in.jsonl --output /tmp/out.jsonl --concurrency 4
python3 - <<'PY'
import json, subprocess
batch = [json.loads(l) for l in open('/tmp/out.jsonl')]
prompts = [json.loads(l)['prompt'] for l in open('/tmp/in.jsonl')]
ok = True
for i, p in enumerate(prompts):
    s = json.loads(subprocess.run(['/tmp/gptoss','generate','--model','tiny','--device','cuda','--temperature','0','--max-tokens','24','--json',p], capture_output=True, text=True).stdout)
    same = s['tokens'] == batch[i]['tokens']
    ok &= same
    print(i, 'same' if same else 'DIFF', len(s['tokens']))
print('batch==single:', ok)
PY
echo "== seeded sampling cpu vs cuda (tiny)"
a=$($BIN generate --model tiny --device cuda --max-tokens 16 --seed 5 --json "Hi" | python3 -c 'import json,sys;print(json.load(sys.stdin)["tokens"])')
b=$($BIN generate --model tiny --device cpu --max-tokens 16 --seed 5 --json "Hi" | python3 -c 'import json,sys;print(json.load(sys.stdin)["tokens"])')
echo "cuda $a"; echo "cpu  $b"
if [ "${SKIP_20B:-0}" != 1 ]; then
  echo "== synthetic 20b: batch throughput through the engine (greedy and temperature 1)"
  [ -d /tmp/m20b ] || $BIN synth --preset 20b --output /tmp/m20b > /dev/null 2>&1
  python3 -c "
import json
for i in range(256): print(json.dumps({'prompt': 'Request number %d: write about the sea.' % i, 'max_tokens': 128}))" > /tmp/in256.jsonl
  head -64 /tmp/in256.jsonl > /tmp/in64.jsonl
  for t in 0 1; do for c in 1 16 64; do
    echo -n "temperature $t concurrency $c: "
    $BIN batch --model /tmp/m20b --device cuda --input /tmp/in64.jsonl --output /tmp/o.jsonl --concurrency $c --temperature $t --seed 1 --context 4096 2>&1 | grep -E "^batch:"
  done; done
  echo -n "temperature 0, 256 requests, concurrency 128: "
  $BIN batch --model /tmp/m20b --device cuda --input /tmp/in256.jsonl --output /tmp/o.jsonl --concurrency 128 --temperature 0 --context 4096 2>&1 | grep -E "^batch:"
  $BIN generate --model /tmp/m20b --device cuda --max-tokens 256 --temperature 0 "Hello" 2>&1 >/dev/null | tail -1
  $BIN generate --model /tmp/m20b --device cuda --max-tokens 256 --temperature 1 --seed 1 "Hello" 2>&1 >/dev/null | tail -1
fi
