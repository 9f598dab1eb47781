#!/bin/bash
# How the shipped model was trained on a lent GPU (one H100, 16 cores), where
# the dataset arrives packed (training/pack.py) and results leave through $OUT:
#   python3 training/pack.py pack training/data .gpu/dataset.xz   # here
#   BUDGET=420 bash training/gpu_train.sh .gpu/dataset.xz       # there
# It measures the step time, sizes the run to BUDGET seconds (the shipped run
# came out at 3200 steps), trains, writes the EMA weights folder to $OUT/w and
# evaluates it (held-out constraints with nocfg and separated guidance, plus
# the per-class probe).
set -eo pipefail
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PACKED=${1:?usage: gpu_train.sh DATASET.xz}
OUT=${OUT:?set OUT to a folder for the results}
BUDGET=${BUDGET:-420}; BATCH=${BATCH:-128}; SEED=${SEED:-1}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)"
python3 training/pack.py unpack "$PACKED" /tmp/data
common="--data /tmp/data --device cuda --workers 12 --threads 4 --batch $BATCH --seed $SEED --ckpt-every 1000000"
python3 training/train.py $common --out /tmp/bench --steps 150 --log-every 50 --val-every 1000000 | tail -1
SPS=$(tail -1 /tmp/bench/log.jsonl | python3 -c "import json,sys; print(json.load(sys.stdin)['s_per_step'])")
STEPS=$(python3 -c "print(int($BUDGET / ($SPS * 1.08)) // 100 * 100)")
echo "s/step $SPS -> $STEPS steps in ${BUDGET}s"
python3 training/train.py $common --out /tmp/run --steps "$STEPS" --warmup 500 --log-every 250 --val-every 1000 \
  --weights-out "$OUT/w" | tee "$OUT/train.log" | grep -E '"step": [0-9]*000,|weights|params' || true
cp /tmp/run/log.jsonl "$OUT/log.jsonl"
python3 training/evaluate.py --checkpoint "$OUT/w" --data /tmp/data --device cuda --guidance nocfg --probe > "$OUT/eval_nocfg.json"
python3 training/evaluate.py --checkpoint "$OUT/w" --data /tmp/data --device cuda --guidance separated > "$OUT/eval_sep.json"
