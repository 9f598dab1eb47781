# Motion Studio. `make run` and `make test` are all the set-up a fresh Debian
# machine with Go, gcc and npm needs: both install what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO       ?= go
SHARED   ?= $(abspath ../shared)
CACHE    ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/motionstudio
PYTHON   ?= /usr/bin/python3
BIN      := bin/motionstudio

ORT_VERSION := 1.30.0
ORT_DIR     := $(CACHE)/onnxruntime-$(ORT_VERSION)
ORT_LIB     := $(ORT_DIR)/libonnxruntime.so.1
GLTF_VALIDATOR_VERSION := 2.0.0-dev.3.10
NODE_DIR    := $(CACHE)/node
MOCAP_DIR   := $(CACHE)/mocap

# Debian packages: cgo for Fyne/GLFW/GTK, a headless X server for GUI and GL
# tests (xwd from x11-apps captures its windows), the real clients our files
# are checked against, and PyTorch (with
# OpenBLAS: the reference BLAS is ~20x slower) and ONNX for training/, and
# WordNet 3.0 for a bundle's word map (training/cmd/wordmap; the studio does
# not need it).
APT_PKGS := gcc pkg-config libgl1-mesa-dev xorg-dev libxkbcommon-dev libgtk-3-dev \
            xvfb xauth x11-apps libgl1-mesa-dri blender python3-numpy python3-requests \
            python3-torch python3-onnx libopenblas0-pthread wordnet-base

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

export ONNXRUNTIME_SHARED_LIBRARY_PATH := $(ORT_LIB)
TEST_ENV := MOTIONSTUDIO_REQUIRE_CLIENTS=1 MOTIONSTUDIO_PYTHON=$(PYTHON) \
            MOTIONSTUDIO_NODE_PATH=$(NODE_DIR)/node_modules MOTIONSTUDIO_MOCAP=$(MOCAP_DIR)/data \
            MOTIONSTUDIO_SHARED=$(SHARED)

MODEL_ID    := cmu-small-v1
MODEL_STEPS ?= 3200
MODEL_RUN   := training/runs/$(MODEL_ID)
# What every fine-tune from 1.11.0 on shares: 1.10.0's flags with the geometric terms faded
# out above t = 800.
MODEL_FADE_FLAGS := --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool \
	--skip --skip-lr-mult 10 --geo-gate --geo-fade-from 800 --seam --expert-rank 16 --expert-steps 600,750 \
	--ema 0.995

FYNE_TOOLS := v1.7.4

.PHONY: build run test bench lint package deps shared apt-deps ort node-tools mocap clean dataset model model-eval model-eval-torch model-testdata

build: apt-deps
	$(GO) build -o $(BIN) ./app

run: deps build
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "make run: no display (DISPLAY is unset); try: xvfb-run -a make run, or bin/motionstudio serve"; exit 1; fi
	./$(BIN)

test: deps
	$(GO) vet ./...
	$(PYTHON) -m unittest discover training/tests
	$(TEST_ENV) xvfb-run -a -s "-screen 0 1280x1024x24" $(GO) test -count=1 -timeout 30m ./...
	# a short fuzz of request decoding and of POST /generate (corpus: the MMCP examples);
	# counted, not timed: Go 1.26's fuzzer can fail a timed run at its deadline (golang/go#75804)
	$(TEST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 300000x ./engine/request
	$(TEST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzGenerate$$' -fuzztime 200000x ./api/server

bench: deps
	$(TEST_ENV) xvfb-run -a -s "-screen 0 1280x1024x24" $(GO) test -run '^$$' -bench . -benchmem ./...

# A Linux package: the binary, the icon and a .desktop entry in a tarball
# with its own `make install` (fyne's packager).
package: build
	$(GO) run fyne.io/tools/cmd/fyne@$(FYNE_TOOLS) package --os linux --src app --executable $(BIN) \
	  --icon ../assets/icon.png --name motionstudio --app-id dev.motionstudio.studio --release
	mkdir -p dist && mv motionstudio.tar.xz dist/
	tar tJf dist/motionstudio.tar.xz | grep -q 'usr/local/bin/motionstudio$$'
	tar tJf dist/motionstudio.tar.xz | grep -q 'applications/dev.motionstudio.studio.desktop$$'
	@echo "dist/motionstudio.tar.xz: unpack it and run 'sudo make install' inside"

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

deps: shared apt-deps ort node-tools mocap

# The project's shared folder (MMCP examples and schemas, the mocap) sits next
# to the checkout; tests read it, so a clone elsewhere must say where it is.
shared:
	@test -d $(SHARED)/mmcp -a -d $(SHARED)/mocap || { echo "missing $(SHARED)/mmcp or $(SHARED)/mocap: the project's shared folder; clone next to it or set SHARED=/path/to/shared"; exit 1; }

# Installs only the packages that are missing, so a second run is quick.
apt-deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# ONNX Runtime's official CPU build, taken from the npm package without
# running its install script.
ort: $(ORT_LIB)
$(ORT_LIB):
	mkdir -p $(ORT_DIR)/pkg
	cd $(ORT_DIR) && npm pack --silent --ignore-scripts onnxruntime-node@$(ORT_VERSION) >/dev/null
	tar -xzf $(ORT_DIR)/onnxruntime-node-$(ORT_VERSION).tgz -C $(ORT_DIR)/pkg package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	mv $(ORT_DIR)/pkg/package/bin/napi-v6/linux/x64/libonnxruntime.so.1 $@.tmp && mv $@.tmp $@
	rm -rf $(ORT_DIR)/pkg $(ORT_DIR)/onnxruntime-node-$(ORT_VERSION).tgz

node-tools: $(NODE_DIR)/node_modules/gltf-validator/package.json
$(NODE_DIR)/node_modules/gltf-validator/package.json:
	mkdir -p $(NODE_DIR)
	npm install --silent --no-audit --no-fund --ignore-scripts --prefix $(NODE_DIR) gltf-validator@$(GLTF_VALIDATOR_VERSION)

# The CMU clips in ../shared/mocap (and its cmu_fbx/ takes), unpacked once
# for the tests that convert every one of them and for the dataset.
mocap: $(MOCAP_DIR)/.unpacked
$(MOCAP_DIR)/.unpacked: $(wildcard $(SHARED)/mocap/*.tar.xz $(SHARED)/mocap/cmu_fbx/*.tar.xz)
	@test -d $(SHARED)/mocap || { echo "missing $(SHARED)/mocap (set SHARED=...)"; exit 1; }
	rm -rf $(MOCAP_DIR) && mkdir -p $(MOCAP_DIR)
	for a in $(SHARED)/mocap/*.tar.xz $(SHARED)/mocap/cmu_fbx/*.tar.xz; do tar -xJf $$a -C $(MOCAP_DIR); done
	cp $(SHARED)/mocap/clips.csv $(MOCAP_DIR)/data/
	if [ -f $(SHARED)/mocap/cmu_fbx/clips.csv ]; then cp $(SHARED)/mocap/cmu_fbx/clips.csv $(MOCAP_DIR)/data/cmu_fbx/; fi
	touch $@

# The bundled model, reproduced from the mocap: the Go dataset builder, then
# PyTorch training (resumable: rerun to continue) and the ONNX export (with the
# denoiser's int8 copy that the CPU runs, training/quantize.py). The
# shipped weights' first training ran on a GPU (training/gpu_train.sh), their
# fine-tunes on a 2-core CPU; here the whole takes about 10 h, and float sums
# make the weights differ slightly. To fine-tune the shipped model instead of
# replaying the recipe, read its weights back from the bundle:
#   $(PYTHON) training/from_onnx.py --bundle assets/models/$(MODEL_ID) --out training/runs/shipped/weights
dataset: mocap
	$(GO) run ./training/cmd/dataset -mocap $(MOCAP_DIR)/data -out training/data

model: deps dataset
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN) --steps $(MODEL_STEPS) --seed 1 \
		--batch 128 --warmup 500 --weights-out $(MODEL_RUN)/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-foot --steps 1000 --seed 2 \
		--lr 2e-4 --warmup 50 --w-foot 0.02 --init $(MODEL_RUN)/weights --weights-out $(MODEL_RUN)-foot/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-pool --steps 2000 --seed 5 \
		--lr 3e-4 --warmup 100 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool \
		--init $(MODEL_RUN)-foot/weights --weights-out $(MODEL_RUN)-pool/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-ground --steps 2500 --seed 7 \
		--lr 3e-4 --warmup 100 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool \
		--init $(MODEL_RUN)-pool/weights --weights-out $(MODEL_RUN)-ground/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-ground2 --steps 2500 --seed 8 \
		--lr 2e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool \
		--init $(MODEL_RUN)-ground/weights --weights-out $(MODEL_RUN)-ground2/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-skip --steps 3000 --seed 13 \
		--lr 3e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--init $(MODEL_RUN)-ground2/weights --weights-out $(MODEL_RUN)-skip/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-gate --steps 2800 --seed 14 \
		--lr 3e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --init $(MODEL_RUN)-skip/weights --weights-out $(MODEL_RUN)-gate/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-gate2 --steps 2500 --seed 15 \
		--lr 2e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --init $(MODEL_RUN)-gate/weights --weights-out $(MODEL_RUN)-gate2/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-hight --steps 2000 --seed 16 \
		--lr 2e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --high-t 0.5 --init $(MODEL_RUN)-gate2/weights --weights-out $(MODEL_RUN)-hight/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-cont --steps 3000 --seed 17 \
		--lr 2e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --init $(MODEL_RUN)-hight/weights --weights-out $(MODEL_RUN)-cont/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-facing --steps 4000 --seed 21 \
		--lr 3e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --facing zero --init $(MODEL_RUN)-cont/weights --weights-out $(MODEL_RUN)-facing/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-seam --steps 2000 --seed 24 \
		--lr 2e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --seam --init $(MODEL_RUN)-facing/weights --weights-out $(MODEL_RUN)-seam/weights
	# 1.9.0: gait batches (every row of a walk/run batch at diffusion steps 800-999), first
	# all of them, then 30 % among ordinary ones. The first of these ran as a wrapper that
	# filtered the sampler's clips with --high-t 1.0; --gait-batches 1.0 draws the same
	# kind of batch with other draws, so a replay differs a little more than float sums.
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-gaithigh --steps 1000 --seed 31 \
		--lr 2e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --seam --gait-batches 1.0 --ema 0.99 \
		--init $(MODEL_RUN)-seam/weights --weights-out $(MODEL_RUN)-gaithigh/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-gaitmix --steps 1200 --seed 33 \
		--lr 2e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --seam --gait-batches 0.3 \
		--init $(MODEL_RUN)-gaithigh/weights --weights-out $(MODEL_RUN)-gaitmix/weights
	# 1.10.0: the high-noise expert (rank-16 terms on the stack's matrices, gated in over
	# t = 600-750), trained alone on rows at t >= 600 (then >= 650), half of the batches
	# walks and runs; every other weight stays 1.9.0's bit for bit.
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-expert --steps 3000 --seed 41 \
		--lr 1e-3 --warmup 100 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --seam --expert-rank 16 --expert-steps 600,750 --expert-only \
		--high-t 1.0 --high-from 600 --gait-batches 0.5 --ema 0.995 \
		--init $(MODEL_RUN)-gaitmix/weights --weights-out $(MODEL_RUN)-expert/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-expert2 --steps 2500 --seed 43 \
		--lr 5e-4 --warmup 50 --w-foot 0.05 --class-power 0.7 --pad-short --engine-masks --text-pool --skip \
		--skip-lr-mult 10 --geo-gate --seam --expert-rank 16 --expert-steps 600,750 --expert-only \
		--high-t 1.0 --high-from 650 --gait-batches 0.5 --ema 0.995 \
		--init $(MODEL_RUN)-expert/weights --weights-out $(MODEL_RUN)-expert2/weights
	# 1.11.0: the whole net, with the fk, vel and foot terms faded out above t = 800; first
	# 40 % of the batches walks, runs and jumps at high noise, each started at a step or a
	# little before a take-off, then 30 % jumps alone with their text always kept.
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-fade --steps 2400 --seed 61 \
		--lr 2e-4 $(MODEL_FADE_FLAGS) \
		--gait-batches 0.4 --gait-classes walk,run,jump --phase-classes walk,run,jump \
		--init $(MODEL_RUN)-expert2/weights --weights-out $(MODEL_RUN)-fade/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-jump --steps 1800 --seed 63 \
		--lr 2e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --gait-batches 0.3 --gait-classes jump --phase-classes jump --gait-keep-text \
		--init $(MODEL_RUN)-fade/weights --weights-out $(MODEL_RUN)-jump/weights
	# 1.11.1: the same with punches and kicks in the keep-text gait batches.
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-punch --steps 1200 --seed 64 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --gait-batches 0.3 --gait-classes jump,punch,kick --phase-classes jump --gait-keep-text \
		--init $(MODEL_RUN)-jump/weights --weights-out $(MODEL_RUN)-punch/weights
	# 1.12.0: keep-text gait batches of walks, runs, jumps, punches and kicks (walks and runs
	# from a step, jumps before a take-off), then of walks, runs and jumps, then of jumps,
	# punches and kicks (kicks before their highest frame).
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-gait --steps 1500 --seed 65 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --gait-batches 0.4 --gait-classes walk,run,jump,punch,kick --phase-classes walk,run,jump --gait-keep-text \
		--init $(MODEL_RUN)-punch/weights --weights-out $(MODEL_RUN)-gait/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-gait2 --steps 1200 --seed 66 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --gait-batches 0.4 --gait-classes walk,run,jump --phase-classes walk,run,jump --gait-keep-text \
		--init $(MODEL_RUN)-gait/weights --weights-out $(MODEL_RUN)-gait2/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-kick --steps 1200 --seed 67 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --gait-batches 0.3 --gait-classes jump,punch,kick --phase-classes jump,kick --gait-keep-text \
		--init $(MODEL_RUN)-gait2/weights --weights-out $(MODEL_RUN)-kick/weights
	# 1.12.1: keep-text gait batches of jumps and runs (runs from a step, jumps before a take-off).
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-jumprun --steps 1000 --seed 70 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --gait-batches 0.4 --gait-classes jump,run --phase-classes jump,run --gait-keep-text \
		--init $(MODEL_RUN)-kick/weights --weights-out $(MODEL_RUN)-jumprun/weights
	# 1.13.0: the gait batches' rows from t = 900 up (--high-from 900), where a stride's phase
	# is still lost: walks, runs and jumps; then runs, dances and jumps; then jumps, punches
	# and kicks (kicks before their highest frame).
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-high900 --steps 1000 --seed 71 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --high-from 900 --gait-batches 0.4 --gait-classes walk,run,jump --phase-classes walk,run,jump --gait-keep-text \
		--init $(MODEL_RUN)-jumprun/weights --weights-out $(MODEL_RUN)-high900/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-dance900 --steps 800 --seed 72 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --high-from 900 --gait-batches 0.4 --gait-classes run,dance,jump --phase-classes run,jump --gait-keep-text \
		--init $(MODEL_RUN)-high900/weights --weights-out $(MODEL_RUN)-dance900/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-kick900 --steps 800 --seed 73 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --high-from 900 --gait-batches 0.3 --gait-classes jump,punch,kick --phase-classes jump,kick --gait-keep-text \
		--init $(MODEL_RUN)-dance900/weights --weights-out $(MODEL_RUN)-kick900/weights
	# 1.13.1: every class's gait rows from t = 900, then jumps, punches and runs.
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-all900 --steps 800 --seed 74 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --high-from 900 --gait-batches 0.4 --gait-classes walk,run,jump,punch,kick,dance \
		--phase-classes walk,run,jump,kick --gait-keep-text \
		--init $(MODEL_RUN)-kick900/weights --weights-out $(MODEL_RUN)-all900/weights
	$(PYTHON) training/train.py --data training/data --out $(MODEL_RUN)-punch900 --steps 800 --seed 75 \
		--lr 1.5e-4 $(MODEL_FADE_FLAGS) \
		--high-t 0.3 --high-from 900 --gait-batches 0.3 --gait-classes jump,punch,run --phase-classes jump,run --gait-keep-text \
		--init $(MODEL_RUN)-all900/weights --weights-out $(MODEL_RUN)-punch900/weights
	$(PYTHON) training/export.py --checkpoint $(MODEL_RUN)-punch900/weights --out assets/models/$(MODEL_ID) --version 1.13.1 \
		--output-smoothing 1.5 --word-map
	$(GO) run ./training/cmd/wordmap -vocab assets/models/$(MODEL_ID)/vocab.txt -out assets/models/$(MODEL_ID)/words.tsv

# The shipped bundle through the engine (Go sampler, ONNX Runtime: the int8
# denoiser on this CPU; add -precision float to the evaluate line for the
# float one) on the held-out takes, then the action classifier on its samples.
model-eval: deps dataset
	$(TEST_ENV) $(GO) run ./training/cmd/evaluate -data training/data -out training/runs/eval-go
	$(PYTHON) training/classify.py --data training/data --generated training/runs/eval-go --json training/runs/eval-go/classify.json

# A local training run's checkpoint in PyTorch: losses, constraints, the class probe.
model-eval-torch: deps dataset
	$(PYTHON) training/evaluate.py --checkpoint $(MODEL_RUN)-punch900/weights --data training/data --probe --gait

# The untrained plumbing bundle of testdata/ (byte-identical on every run).
model-testdata: apt-deps
	$(PYTHON) training/export.py --random --out testdata/models/random-tiny

clean:
	rm -rf bin
