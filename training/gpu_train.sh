#!/bin/bash
# Training on a lent GPU (one H100, 16 cores), where the dataset arrives packed
# (training/pack.py) and results leave through $OUT:
#   python3 training/pack.py pack training/data .gpu/dataset.xz   # here
#   BUDGET=420 bash training/gpu_train.sh .gpu/dataset.xz       # there, one call
# A call may run 10 minutes, so a longer run goes in chunks on the same (warm)
# machine: fix the total with STEPS, stop each call with STOP_AT; a call finds
# the run's checkpoint in RUN and resumes it:
#   STEPS=9000 STOP_AT=3000 bash training/gpu_train.sh .gpu/dataset.xz
#   STEPS=9000 STOP_AT=6000 bash training/gpu_train.sh .gpu/dataset.xz
#   STEPS=9000 bash training/gpu_train.sh .gpu/dataset.xz   # the last chunk evaluates
# Without STEPS it measures the step time and sizes the run to BUDGET seconds
# (1.1.0's run came out at 3200 steps). FLAGS are train.py's recipe flags
# (default: those of the 1.9.0 fine-tune, gait batches included); the finished run's EMA weights go
# to $OUT/w, evaluated on held-out constraints (nocfg and separated guidance)
# with the per-class and gait probes.
set -eo pipefail
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PACKED=${1:?usage: gpu_train.sh DATASET.xz}
OUT=${OUT:?set OUT to a folder for the results}
BUDGET=${BUDGET:-420}; BATCH=${BATCH:-128}; SEED=${SEED:-1}; STOP_AT=${STOP_AT:-0}
DEVICE=${DEVICE:-cuda}; WORKERS=${WORKERS:-12}; RUN=${RUN:-/tmp/run}; DATA=${DATA:-/tmp/data}
FLAGS=${FLAGS:---w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip --skip-lr-mult 10 --geo-gate --facing zero --seam --gait-batches 0.3}
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)"
[ -f "$DATA/features.npy" ] || python3 training/pack.py unpack "$PACKED" "$DATA"
common="--data $DATA --device $DEVICE --workers $WORKERS --threads 4 --batch $BATCH --seed $SEED $FLAGS"
if [ -z "$STEPS" ]; then
  rm -rf "$RUN.bench"
  # shellcheck disable=SC2086
  python3 training/train.py $common --out "$RUN.bench" --steps 150 --log-every 50 --val-every 1000000 \
    --ckpt-every 1000000 | tail -1
  SPS=$(tail -1 "$RUN.bench/log.jsonl" | python3 -c "import json,sys; print(json.load(sys.stdin)['s_per_step'])")
  STEPS=$(python3 -c "print(max(int($BUDGET / ($SPS * 1.08)) // 100 * 100, 100))")
  echo "s/step $SPS -> $STEPS steps in ${BUDGET}s"
fi
mkdir -p "$OUT"
# shellcheck disable=SC2086
python3 training/train.py $common --out "$RUN" --steps "$STEPS" --stop-at "$STOP_AT" --warmup 500 \
  --log-every 250 --val-every 1000 --ckpt-every 500 --weights-out "$OUT/w" |
  tee -a "$OUT/train.log" | grep -E '"step": [0-9]*000,|weights|params|resumed' || true
cp "$RUN/log.jsonl" "$OUT/log.jsonl"
if [ "$STOP_AT" -gt 0 ] && [ "$STOP_AT" -lt "$STEPS" ]; then
  echo "stopped at step $STOP_AT of $STEPS; run again with STEPS=$STEPS to go on"
  exit 0
fi
python3 training/evaluate.py --checkpoint "$OUT/w" --data "$DATA" --device "$DEVICE" --guidance nocfg --probe --gait > "$OUT/eval_nocfg.json"
python3 training/evaluate.py --checkpoint "$OUT/w" --data "$DATA" --device "$DEVICE" --guidance separated > "$OUT/eval_sep.json"
