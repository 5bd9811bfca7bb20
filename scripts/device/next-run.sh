#!/usr/bin/env bash
# One device call for decode v11 (DecodePath.swift DecodeV11Switches): GPTOSS_DOWN_EARLY (down's first weight
# group before griddepcontrol.wait) and GPTOSS_ROUTER_FOLD (router + top-k in o_proj's last block). Kernel
# compile check + SASS order of the new kernels, fixtures vs HF for the default and each switch, 20b GPU vs
# CPU with everything on, 20b b1 128/128 A/B (baseline twice, each switch alone, all on twice), 120b vs CPU
# 2/2 and bench (baseline vs all on vs each switch). Short table last. Carry .device-next/{gptoss.xz,
# fixtures/, next-run.sh}. GPTOSS_ROUTER_FOLD=1: exact fold, =2: by linearity. Env: GEN (20b, 128), GEN120 (64), SKIP_120B (0).
set -uo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; OUT="${OUT:-/tmp/gptoss-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
T0=$(date +%s); el() { echo $(( $(date +%s) - T0 )); }
BIN=/tmp/gptoss; xz -dc "$D/gptoss.xz" > $BIN; chmod +x $BIN
export GPTOSS_CACHE_DIR=/tmp/gptoss-cache GPTOSS_PDL=1
GEN=${GEN:-128}; GEN120=${GEN120:-64}; PROMPT=128
OFF="GPTOSS_DOWN_EARLY=0 GPTOSS_ROUTER_FOLD=0"; ON="GPTOSS_DOWN_EARLY=1 GPTOSS_ROUTER_FOLD=1"; ON2="GPTOSS_DOWN_EARLY=1 GPTOSS_ROUTER_FOLD=2"
E1="GPTOSS_DOWN_EARLY=1 GPTOSS_ROUTER_FOLD=0"; F1="GPTOSS_DOWN_EARLY=0 GPTOSS_ROUTER_FOLD=1"; F2="GPTOSS_DOWN_EARLY=0 GPTOSS_ROUTER_FOLD=2"
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
  for k in dec_moe_down_tc_early dec_gemv_bf16_router_v10 dec_gemv_bf16_router2_v10; do
    awk -v k=".text.$k:" '$0==k{on=1;next} /^\.text\./{on=0} on' $W/decode.sass > $W/$k.sass
    first_acq=$(grep -n ACQBULK $W/$k.sass | head -1 | cut -d: -f1); nldg=$(head -n "${first_acq:-0}" $W/$k.sass | grep -c "LDG")
    row "SASS $k: $nldg LDG before the first ACQBULK (line ${first_acq:-none})"
  done
else row "SASS: no nvdisasm or cubin (${DIS:-no nvdisasm})"; fi
FIX="$D/fixtures"
for v in "default:" "base:$OFF" "early:$E1" "fold1:$F1" "fold2:$F2" "early+fold1:$ON" "early+fold2:$ON2"; do
  n=${v%%:*}; e=${v#*:}
  if env $e $BIN cuda-check $FIX/tiny-a $FIX/tiny-b $FIX/tiny-c > $W/fix-$n.txt 2>&1; then row "fixtures $n ($e): ok"; else row "fixtures $n ($e): FAIL"; tail -20 $W/fix-$n.txt; fi
done
M=/dev/shm/m20b
t0=$(date +%s); $BIN synth --preset 20b --output $M >/dev/null; echo "synth 20b $(( $(date +%s) - t0 )) s"
vc() { local label=$1 toks=$2 steps=$3; shift 3
  if env "$@" timeout 60 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens $toks --vs-cpu-steps $steps > $W/vs-$label.txt 2>&1; then row "20b vs CPU $label: $(tail -1 $W/vs-$label.txt)"; else row "20b vs CPU $label FAIL: $(tail -2 $W/vs-$label.txt)"; fi; }
vc early+fold1-4x6 4 6 $ON
vc early+fold2-4x6 4 6 $ON2
vc base-4x6 4 6 $OFF
vc early+fold2-200x4 200 4 $ON2
vc early+fold1-200x4 200 4 $ON
b() { local label=$1; shift; local f=$(echo $label | tr -c "a-zA-Z0-9\n-" _)
  env "$@" $BIN bench --model $M --device cuda --batch 1 --prompt-tokens $PROMPT --gen-tokens $GEN --json > $W/b-$f.json 2>$W/b-$f.err || tail -3 $W/b-$f.err
  row "20b b1 $PROMPT/$GEN $label: $(pick $W/b-$f.json decode_tok_s decode_ms_per_step fraction_of_floor floor_tok_s)"; }
b base $OFF
b early $E1
b fold1 $F1
b fold2 $F2
b early+fold1 $ON
b early+fold2 $ON2
b base-again $OFF
b early-again $E1
b early+fold1-again $ON
b early+fold2-again $ON2
b default
echo "elapsed $(el) s before 120b"
if [ "${SKIP_120B:-0}" != 1 ] && [ $(el) -lt 240 ]; then
  rm -rf $M
  M=/dev/shm/m120b; avail=$(df -BG --output=avail /dev/shm | tail -1 | tr -dc 0-9)
  if [ "${avail:-0}" -lt 70 ]; then mkdir -p /tmp/ram && mount -t tmpfs -o size=80G tmpfs /tmp/ram && M=/tmp/ram/m120b; fi
  t0=$(date +%s); $BIN synth --preset 120b --output $M >/dev/null; row "synth 120b: $(( $(date +%s) - t0 )) s"
  for v in "early+fold1:$ON" "early+fold2:$ON2"; do n=${v%%:*}; e=${v#*:}
    if env $e timeout 120 $BIN cuda-check --vs-cpu $M --vs-cpu-tokens 2 --vs-cpu-steps 2 > $W/vs-120b-$n.txt 2>&1; then row "120b vs CPU $n 2/2: $(tail -1 $W/vs-120b-$n.txt)"; else row "120b vs CPU $n FAIL/timeout: $(tail -2 $W/vs-120b-$n.txt)"; fi
  done
  b1() { local label=$1; shift
    env "$@" $BIN bench --model $M --device cuda --batch 1 --prompt-tokens 128 --gen-tokens $GEN120 --json > $W/b-120b-$label.json 2>$W/b-120b-$label.err || tail -3 $W/b-120b-$label.err
    row "120b b1 128/$GEN120 $label: $(pick $W/b-120b-$label.json decode_tok_s decode_ms_per_step fraction_of_floor floor_tok_s)"; }
  b1 base $OFF
  b1 early+fold1 $ON
  b1 early+fold2 $ON2
  [ $(el) -lt 320 ] && b1 early $E1
  [ $(el) -lt 330 ] && b1 fold1 $F1
  [ $(el) -lt 340 ] && b1 fold2 $F2
  [ $(el) -lt 350 ] && b1 base-again $OFF
fi
echo "elapsed $(el) s"
echo; echo "== summary"; for r in "${TABLE[@]}"; do echo "$r"; done
