#!/bin/bash
# The recipe's training on a lent GPU (one H100, 16 cores): training/recipe.py --from
# scratch, the same stages as `make model` after a whole run from random weights. The
# 8 h dataset (1.9 GB of features) cannot travel (64 MiB a call), so it is built there
# from the mocap archives, which travel in three calls while the machine stays warm, by
# a static build of the Go dataset builder (Go itself is not there):
#
#   here:  mkdir -p .gpu/1 .gpu/2 .gpu/3 && CGO_ENABLED=0 go build -o .gpu/1/dataset ./training/cmd/dataset
#          cp ../shared/mocap/{cmu_bvh.tar.xz,clips.csv} .gpu/1/ && cp ../shared/mocap/cmu_fbx/cmu_fbx_bvh_1.tar.xz .gpu/2/
#          cp ../shared/mocap/cmu_fbx/{cmu_fbx_bvh_2.tar.xz,clips.csv} ../shared/mocap/cmu_bvh_extra.tar.xz .gpu/3/
#   call 1 (carry .gpu/1):  PART=1 bash training/gpu_train.sh
#   call 2 (carry .gpu/2):  PART=2 bash training/gpu_train.sh
#   call 3 (carry .gpu/3):  PART=3 bash training/gpu_train.sh   # builds the dataset, trains, writes $OUT/weights
#   here:  cp -r $OUT/weights training/runs/v2-<last stage>/ && make model   # the bank and the export
#
# Calls 1 and 2 only unpack (under $WORK); call 3 runs the recipe with --train-only. A
# call may run 10 minutes: call 3 stops there and a fourth call (PART=3 again) resumes
# the recipe where it stopped. Not yet run on a GPU: no session has had one since the
# recipe was written.
set -eo pipefail
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PART=${PART:?set PART to 1, 2 or 3}
OUT=${OUT:?set OUT to a folder for the results}
WORK=${WORK:-/tmp/motionstudio}; DEVICE=${DEVICE:-cuda}; WORKERS=${WORKERS:-12}
MOCAP=$WORK/mocap/data
mkdir -p "$WORK/mocap" "$OUT"
for a in .gpu/"$PART"/*.tar.xz; do tar -xJf "$a" -C "$WORK/mocap"; done
case $PART in
  1) cp .gpu/1/clips.csv "$MOCAP/"; cp .gpu/1/dataset "$WORK/"; exit 0 ;;
  2) exit 0 ;;
esac
[ -f .gpu/3/clips.csv ] && cp .gpu/3/clips.csv "$MOCAP/cmu_fbx/"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)"
[ -f "$WORK/data/clips.json" ] || "$WORK/dataset" -mocap "$MOCAP" -out "$WORK/data"
python3 training/recipe.py --from scratch --train-only --device "$DEVICE" --workers "$WORKERS" \
  --data "$WORK/data" --runs "$WORK/runs" | tee -a "$OUT/recipe.log"
last=$(python3 -c "import sys; sys.path.insert(0, 'training'); import recipe; print(recipe.run_dir('$WORK/runs', recipe.STAGES[-1].name))")
cp -r "$last/weights" "$OUT/"
cp "$last/log.jsonl" "$OUT/log.jsonl"
