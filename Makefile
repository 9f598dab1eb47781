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
# tests (xwd from x11-apps captures its windows, xwininfo from x11-utils
# measures them), the real clients our files
# are checked against, and PyTorch (with
# OpenBLAS: the reference BLAS is ~20x slower) and ONNX for training/, and
# WordNet 3.0 for a bundle's word map (training/cmd/wordmap; the studio does
# not need it), and Redis and nginx for the replica tests (the shared job
# store of serve --jobs and deploy/nginx.conf in front of three replicas),
# and systemd-analyze to verify deploy/'s unit.
APT_PKGS := gcc pkg-config libgl1-mesa-dev xorg-dev libxkbcommon-dev libgtk-3-dev \
            xvfb xauth x11-apps x11-utils libgl1-mesa-dri blender python3-numpy python3-requests \
            python3-torch python3-onnx libopenblas0-pthread wordnet-base redis-server nginx-light \
            systemd

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The project's shared folder beside the checkout is optional: the tests'
# fixtures are in testdata/. With its CMU corpus (SHARED/mocap), `make test`
# also runs what only the whole corpus can check (every clip parsed,
# retargeted and converted; the dataset; the real-take checks); without it,
# those tests skip and `make test` says so in one line.
HAVE_MOCAP  := $(wildcard $(SHARED)/mocap/cmu_bvh.tar.xz)
HAVE_SHARED := $(wildcard $(SHARED)/mmcp/data)

export ONNXRUNTIME_SHARED_LIBRARY_PATH := $(ORT_LIB)
TEST_ENV := MOTIONSTUDIO_REQUIRE_CLIENTS=1 MOTIONSTUDIO_PYTHON=$(PYTHON) \
            MOTIONSTUDIO_NODE_PATH=$(NODE_DIR)/node_modules \
            MOTIONSTUDIO_MOCAP=$(if $(HAVE_MOCAP),$(MOCAP_DIR)/data) \
            $(if $(HAVE_SHARED),MOTIONSTUDIO_SHARED=$(SHARED))

MODEL_ID    := cmu-small-v1
# The recipe's last stage (training/recipe.py STAGES), for model-eval-torch.
MODEL_RUN   := training/runs/v2-reach

FYNE_TOOLS := v1.7.4

.PHONY: build build-check run test bench lint package deps apt-deps ort node-tools mocap clean dataset model model-eval model-eval-torch model-testdata

build: build-check
	$(GO) build -o $(BIN) ./cmd/motionstudio

# What the cgo build (Fyne, GLFW, the GTK file dialogs) needs: checked, not
# installed here; `make deps` installs it.
CGO_PKGS := gl x11 xrandr xxf86vm xi xcursor xinerama gtk+-3.0
build-check:
	@missing=$$(command -v "$${CC:-gcc}" >/dev/null || echo "$${CC:-gcc}"; \
	  if command -v pkg-config >/dev/null; then \
	    for p in $(CGO_PKGS); do pkg-config --exists $$p || echo "$$p"; done; \
	  else echo pkg-config; fi); \
	if [ -n "$$missing" ]; then echo "make build: missing" $$missing "(for the cgo build): run \`make deps\`"; exit 1; fi

run: deps build
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "make run: no display (DISPLAY is unset); try: xvfb-run -a make run, or bin/motionstudio serve"; exit 1; fi
	./$(BIN)

test: deps
	$(GO) vet ./...
	$(PYTHON) -m unittest discover training/tests
	$(TEST_ENV) xvfb-run -a -s "-screen 0 1280x1024x24" $(GO) test -count=1 -timeout 30m ./...
	# the concurrent packages under the race detector; checkptr (on with -race) is off for glrender
	# alone: go-gl's PtrOffset turns a buffer offset into a pointer, which checkptr aborts on
	$(TEST_ENV) xvfb-run -a -s "-screen 0 1280x1024x24" $(GO) test -race -gcflags=github.com/motionstudio/studio/viewer/glrender=-d=checkptr=0 -count=1 -timeout 30m ./engine/... ./api/... ./ui/... ./viewer/...
	# a short fuzz of request decoding and of POST /generate (corpus: the MMCP examples);
	# counted, not timed: Go 1.26's fuzzer can fail a timed run at its deadline (golang/go#75804)
	$(TEST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 300000x ./engine/request
	$(TEST_ENV) $(GO) test -run '^$$' -fuzz '^FuzzGenerate$$' -fuzztime 200000x ./api/server
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 500000x ./engine/formats/fbx
	$(GO) test -run '^$$' -fuzz '^FuzzParseASCII$$' -fuzztime 200000x ./engine/formats/fbx
	@$(if $(HAVE_MOCAP),:,echo "make test: no CMU corpus at $(SHARED)/mocap, so the tests over every mocap clip, the dataset and the real takes were skipped; to run them: SHARED=/path/to/shared make test")

bench: deps
	$(TEST_ENV) xvfb-run -a -s "-screen 0 1280x1024x24" $(GO) test -run '^$$' -bench . -benchmem ./...

# A Linux package: the binary, the icon and a .desktop entry in a tarball
# with its own `make install` (fyne's packager).
package: build
	$(GO) run fyne.io/tools/cmd/fyne@$(FYNE_TOOLS) package --os linux --src cmd/motionstudio --executable $(BIN) \
	  --icon ../../assets/icon.png --name motionstudio --app-id dev.motionstudio.studio --release
	mkdir -p dist && mv motionstudio.tar.xz dist/
	tar tJf dist/motionstudio.tar.xz | grep -q 'usr/local/bin/motionstudio$$'
	tar tJf dist/motionstudio.tar.xz | grep -q 'applications/dev.motionstudio.studio.desktop$$'
	@echo "dist/motionstudio.tar.xz: unpack it and run 'sudo make install' inside"

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The corpus is unpacked only where the shared folder has it (see HAVE_MOCAP).
deps: apt-deps ort node-tools $(if $(HAVE_MOCAP),mocap)

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
	@test -f $(SHARED)/mocap/cmu_bvh.tar.xz || { echo "missing $(SHARED)/mocap, the CMU corpus: set SHARED=/path/to/shared"; exit 1; }
	rm -rf $(MOCAP_DIR) && mkdir -p $(MOCAP_DIR)
	for a in $(SHARED)/mocap/*.tar.xz $(SHARED)/mocap/cmu_fbx/*.tar.xz; do tar -xJf $$a -C $(MOCAP_DIR); done
	cp $(SHARED)/mocap/clips.csv $(MOCAP_DIR)/data/
	if [ -f $(SHARED)/mocap/cmu_fbx/clips.csv ]; then cp $(SHARED)/mocap/cmu_fbx/clips.csv $(MOCAP_DIR)/data/cmu_fbx/; fi
	touch $@

# The bundled model, reproduced from the mocap: the Go dataset builder (and
# the captions' augmentation table, WordNet synonyms for train.py --augment:
# training/cmd/wordmap -augment), then
# training/recipe.py, which holds every step (from bundle 1.13.1's weights,
# read back from git, to the exported bundle with its retrieval bank and word
# map; resumable: rerun to continue). About two hours on this 2-core CPU;
# on a lent GPU, training/gpu_train.sh runs it from random weights.
dataset: apt-deps mocap
	$(GO) run ./training/cmd/dataset -mocap $(MOCAP_DIR)/data -out training/data
	$(GO) run ./training/cmd/wordmap -augment -data training/data -out training/data/augment.tsv
	$(GO) run ./training/cmd/evaluate -data training/data -train-windows training/data/windows.json

model: deps dataset
	MOTIONSTUDIO_MOCAP=$(MOCAP_DIR)/data $(PYTHON) training/recipe.py --data training/data

# The shipped bundle through the engine (Go sampler, ONNX Runtime: the int8
# denoiser on this CPU; add -precision float to the evaluate line for the
# float one) on the held-out takes: every class (16 samples, seeds 1 and 2) and the
# unseen-word prompts; then the action classifier on both sets of samples and on
# the held-out takes' best windows (real/: the real reference of "both"), and one
# table of it all (evaluate -report). EVAL_FLAGS: e.g. -no-retrieval,
# -start-step=100 (samples near the bank's real clips), -model DIR (a bundle folder),
# or -classes walk,run -constraints=false -unseen=false for a quick look.
EVAL_DIR ?= training/runs/eval-go
model-eval: deps dataset
	$(TEST_ENV) $(GO) run ./training/cmd/evaluate -data training/data -out $(EVAL_DIR) $(EVAL_FLAGS)
	$(PYTHON) training/classify.py --data training/data --generated $(EVAL_DIR) --json $(EVAL_DIR)/classify.json
	if [ -f $(EVAL_DIR)/unseen/labels.json ]; then \
	  $(PYTHON) training/classify.py --data training/data --generated $(EVAL_DIR)/unseen --json $(EVAL_DIR)/unseen/classify.json; fi
	if [ -f $(EVAL_DIR)/real/labels.json ]; then \
	  $(PYTHON) training/classify.py --data training/data --generated $(EVAL_DIR)/real --json $(EVAL_DIR)/real/classify.json; fi
	$(GO) run ./training/cmd/evaluate -report -out $(EVAL_DIR)

# A local training run's checkpoint in PyTorch: losses, constraints, the class probe.
model-eval-torch: deps dataset
	$(PYTHON) training/evaluate.py --checkpoint $(MODEL_RUN)/weights --data training/data --probe --gait

# The untrained plumbing bundle of testdata/ (byte-identical on every run).
model-testdata: apt-deps
	$(PYTHON) training/export.py --random --out testdata/models/random-tiny

clean:
	rm -rf bin
