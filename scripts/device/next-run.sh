#!/usr/bin/env bash
# One device call for decode v12 (DecodePath.swift DecodeV12Switches): GPTOSS_GATEUP_EARLY=1 runs
# dec_moe_gate_up_tc_early (RMSNorm(h)·nw staged before griddepcontrol.wait; default off) against v7's
# dec_moe_gate_up_tc (=0), both with the default down early. Kernel compile check + SASS order of the new
# kernel, fixtures vs HF for both, 20b GPU vs CPU for both (bit-identical act: the same max diff expected),
# 20b b1 128/128 A/B alternating (base, early, base, early, default), 120b vs CPU 2/2 with early and bench
# A/B. Short table last. Carry .device-next/{gptoss.xz, fixtures/, next-run.sh}. Env: GEN (20b, 128),
# GEN120 (64), SKIP_120B (0). (The v11 script, with the removed router fold, is in git history at 6e46fd3.)
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
T0=$(date +%s); el() { echo $(( $(date +%s) - T0 )); }
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache GPTOSS_PDL=1
GEN=${GEN:-128}; GEN120=${GEN120:-64}; PROMPT=128
OFF="GPTOSS_GATEUP_EARLY=0"; ON="GPTOSS_GATEUP_EARLY=1"
declare -a TABLE; row() { TABLE+=("$1"); }
pick() { python3 -c "import json,sys; d=json.load(open('$1')); print(' '.join(f'{k}={d[k]:.4g}' if isinstance(d[k],float) else f'{k}={d[k]}' for k in sys.argv[1:]))" "${@:2}" 2>/dev/null || echo "(no result)"; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv,noheader
row "card: $(nvidia-smi --query-gpu=name --format=csv,noheader)"
if $BIN kernels --check --arch sm_90 >/dev/null 2>/tmp/kcheck.txt; then row "kernels --check sm_90: ok"; else row "kernels --check sm_90: FAIL"; cat /tmp/kcheck.txt; fi
$BIN kernels --arch sm_90 >/dev/null 2>&1   # fills the cubin cache
W=/tmp/next-work; mkdir -p $W
CUB=$(ls $GPTOSS_CACHE_DIR/cubin/decode.cu-sm_90-*.cubin 2>/dev/null | head -1)
DIS=$(command -v nvdisasm || ls /usr/local/cuda*/bin/nvdisasm 2>/dev/null | head -1)
if [ -n "$CUB" ] && [ -n "$DIS" ]; then
  $DIS -c "$CUB" > $W/decode.sass 2>/dev/null
  for k in dec_moe_gate_up_tc_early dec_moe_gate_up_tc dec_moe_down_tc_early; do
    awk -v k=".text.$k:" '$0==k{on=1;next} /^\.text\./{on=0} on' $W/decode.sass > $W/$k.sass
    first_acq=$(grep -n ACQBULK $W/$k.sass | head -1 | cut -d: -f1); nldg=$(head -n "${first_acq:-0}" $W/$k.sass | grep -c "LDG")
    row "SASS $k: $nldg LDG before the first ACQBULK (line ${first_acq:-none})"
  done
else row "SASS: no nvdisasm or cubin (${DIS:-no nvdisasm})"; fi
FIX="$D/fixtures"
for v in "default:" "base:$OFF" "gateup-early:$ON"; do
  n=${v%%:*}; e=${v#*:}
  if env $e $BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $W/fix-$n.txt 2>&1; then row "fixtures $n ($e): ok"; else row "fixtures $n ($e): FAIL"; tail -20 $W/fix-$n.txt; fi
done
M=/dev/shm/m20b
t0=$(date +%s); $BIN synth --preset 20b --output $M >/dev/null; echo "synth 20b $(( $(date +%s) - t0 )) s"
vc() { local label=$1 toks=$2 steps=$3; shift 3
  if env "$@" timeout 60 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens $toks --vs-cpu-steps $steps > $W/vs-$label.txt 2>&1; then row "20b vs CPU $label: $(tail -1 $W/vs-$label.txt)"; else row "20b vs CPU $label FAIL: $(tail -2 $W/vs-$label.txt)"; fi; }
vc gateup-early-4x6 4 6 $ON
vc base-4x6 4 6 $OFF
vc gateup-early-200x4 200 4 $ON
vc base-200x4 200 4 $OFF
b() { local label=$1; shift; local f=$(echo $label | tr -c "a-zA-Z0-9\n-" _)
  env "$@" $BIN bench --model $M --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $GEN --json > $W/b-$f.json 2>$W/b-$f.err || tail -3 $W/b-$f.err
  row "20b b1 $PROMPT/$GEN $label: $(pick $W/b-$f.json decode_tok_s decode_ms_per_step fraction_of_floor floor_tok_s)"; }
b base $OFF
b gateup-early $ON
b base-again $OFF
b gateup-early-again $ON
b default
echo "elapsed $(el) s before 120b"
if [ "${SKIP_120B:-0}" != 1 ] && [ $(el) -lt 240 ]; then
  rm -rf $M
  M=/dev/shm/m120b; avail=$(df -BG --output=avail /dev/shm | tail -1 | tr -dc 0-9)
  if [ "${avail:-0}" -lt 70 ]; then mkdir -p /tmp/ram && mount -t tmpfs -o size=80G tmpfs /tmp/ram && M=/tmp/ram/m120b; fi
  t0=$(date +%s); $BIN synth --preset 120b --output $M >/dev/null; row "synth 120b: $(( $(date +%s) - t0 )) s"
  for v in "gateup-early:$ON"; do n=${v%%:*}; e=${v#*:}
    if env $e timeout 120 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 2 --vs-cpu-steps 2 > $W/vs-120b-$n.txt 2>&1; then row "120b vs CPU $n 2/2: $(tail -1 $W/vs-120b-$n.txt)"; else row "120b vs CPU $n FAIL/timeout: $(tail -2 $W/vs-120b-$n.txt)"; fi
  done
  b1() { local label=$1; shift
    env "$@" $BIN bench --model $M --device cuda --batch 1 --prompt-tokens 128 --gen-tokens $GEN120 --json > $W/b-120b-$label.json 2>$W/b-120b-$label.err || tail -3 $W/b-120b-$label.err
    row "120b b1 128/$GEN120 $label: $(pick $W/b-120b-$label.json decode_tok_s decode_ms_per_step fraction_of_floor floor_tok_s)"; }
  b1 base $OFF
  b1 gateup-early $ON
  [ $(el) -lt 340 ] && b1 base-again $OFF
  [ $(el) -lt 350 ] && b1 gateup-early-again $ON
fi
echo "elapsed $(el) s"
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
