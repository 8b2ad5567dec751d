# ShiftAdd: `make run` sets everything up and runs the default model; `make test` runs the tests.

SHELL := /bin/bash
SWIFT ?= swift
# One build configuration for everything: release with testing enabled, so the tests reuse the
# binaries `make run` uses instead of building the package twice.
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
BIN := .build/release
MODEL_DIR ?= $(or $(SHIFTADD_MODEL_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/shiftadd/models)
# MODEL names the model (Scripts/fetch-model.sh knows each): smollm2 (default) or gemma3-270m, the
# second family (`make run MODEL=gemma3-270m`, `make bench-llamacpp MODEL=gemma3-270m`, ...).
# Below, $(MODEL) is the path of its GGUF in the cache.
MODEL ?= smollm2
MODEL_FILE_smollm2 := SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_FILE_gemma3-270m := gemma-3-270m-q4_k_m.gguf
# What the benchmark bundles of each model are named by, and their conversion flags beyond the fast
# preset: Gemma's 262,144-row head is stored as 3-bit planes, since read as int8 rows it would
# outweigh all the blocks together at every decoded token.
MODEL_STEM_smollm2 := SmolLM2-135M-Instruct
MODEL_STEM_gemma3-270m := gemma-3-270m
BENCH_FLAGS_gemma3-270m := --head-bits 3
override MODEL_NAME := $(MODEL)
ifeq ($(MODEL_FILE_$(MODEL_NAME)),)
$(error unknown MODEL '$(MODEL_NAME)' (known: smollm2, gemma3-270m))
endif
override MODEL := $(MODEL_DIR)/$(MODEL_FILE_$(MODEL_NAME))
THREADS ?= $(shell nproc)
PROMPT ?= The capital of France is
HOST ?= 127.0.0.1
PORT ?= 8080
DEB_PACKAGES := pkg-config libnghttp2-dev libssl-dev libopenblas-dev python3 python3-pip python3-venv ca-certificates \
	curl openssl nghttp2-client
# The official openai client for the end-to-end test, in a virtual environment outside the repo.
VENV ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/shiftadd/venv
OPENAI_VERSION := 3.54.0
# Structured outputs and tool calls checked with jsonschema and through LangChain (end-to-end test).
JSONSCHEMA_VERSION := 4.26.0
LANGCHAIN_OPENAI_VERSION := 1.8.1
STRUCTURED_OUTPUTS_COUNT ?= 50
# Schema validation of the Kubernetes manifests (a unit test runs it), in the same environment.
K8S_VALIDATE_VERSION := 1.37.0
K8S_VALIDATE := $(VENV)/bin/kubernetes-validate
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export SHIFTADD_MODEL_DIR := $(MODEL_DIR)

.PHONY: all deps build test test-unit test-kernel-paths test-e2e structured-outputs run model clean help

all: build

help:
	@echo "make run    install what is missing, build, fetch and convert the default model, serve it on $(HOST):$(PORT)"
	@echo "make test   build and run the unit tests, the kernel suites on each instruction set and the end-to-end test"
	@echo "make build  build the executables (release)"
	@echo "make model  fetch and verify the model (MODEL=smollm2, the default, or gemma3-270m) into $(MODEL_DIR)"
	@echo "make deps   install missing Debian packages"
	@echo "make bench  speed of 2-, 3- and 4-bit bundles on the kernels next to the fp32 reference"
	@echo "make eval-harness  lm-evaluation-harness through the API; its log-likelihoods checked against shiftadd score"
	@echo "make bench-llamacpp  batch-1 decode of the 3-bit bundle and of llama.cpp on the same GGUF, with the ratio (MODEL=...; builds llama-cpp-python into a venv once)"
	@echo "make tokenizer-agreement  shiftadd's tokenizer against Hugging Face tokenizers (SmolLM2) or llama.cpp (MODEL=gemma3-270m)"
	@echo "make ablation  the converter ablation of Docs/converter.md (ABLATION_PRESET fast or default; needs EVAL_TEXT)"
	@echo "make pareto  file size against perplexity and decode speed, bundles beside llama.cpp's quantizations (PARETO_*)"
	@echo "make structured-outputs  json_schema outputs and required tool calls, $(STRUCTURED_OUTPUTS_COUNT) of each, validated (LangChain too)"
	@echo "make fuzz   each fuzz target for FUZZ_SECONDS (default 60); make test-sanitize: tests under sanitizers"
	@echo "make soak   SOAK_SECONDS (default 1800) of mixed load on the server; checks memory, descriptors, metrics"
	@echo "make faults fault injection against the server and converter (root for a tmpfs); .build/faults/summary.json"
	@echo "make leak-check  LeakSanitizer on the server over LEAK_REQUESTS (1000) requests of every kind"

# Installs only the Debian packages that are missing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "the Swift toolchain (swift) is not on PATH: install Swift 6 from swift.org"; exit 1; }

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

model: deps
	@Scripts/fetch-model.sh "$(MODEL_DIR)" $(MODEL_NAME)

test: test-unit test-kernel-paths test-e2e

test-unit: build model $(K8S_VALIDATE)
	KUBERNETES_VALIDATE="$(K8S_VALIDATE)" $(SWIFT) test $(SWIFT_FLAGS)

# Every kernel gives the same bits on every instruction set, so the suites that run kernels pass
# on each: they run again with SHIFTADD_KERNELS set to each path this CPU has other than the one
# test-unit used (`shiftadd kernels` names the path in force and refuses one the CPU lacks).
KERNEL_PATH_SUITES := ShiftAddKernelTests|ShiftAddEngineTests|ShiftAddSchedulerTests
test-kernel-paths: build model
	@current=$$($(BIN)/shiftadd kernels) || exit 1; \
	for path in scalar avx2 avx512; do \
	  [ "$$path" != "$$current" ] || continue; \
	  if ! SHIFTADD_KERNELS=$$path $(BIN)/shiftadd kernels >/dev/null 2>&1; then \
	    echo "kernel path $$path: not on this CPU, skipped"; continue; \
	  fi; \
	  echo "kernel path $$path: $(KERNEL_PATH_SUITES)"; \
	  SHIFTADD_KERNELS=$$path $(SWIFT) test $(SWIFT_FLAGS) --filter '$(KERNEL_PATH_SUITES)' || exit 1; \
	done

$(VENV)/bin/python:
	python3 -m venv "$(VENV)"

OPENAI_CLIENT := $(VENV)/.openai-$(OPENAI_VERSION)
$(OPENAI_CLIENT): | $(VENV)/bin/python
	"$(VENV)/bin/pip" install -q "openai==$(OPENAI_VERSION)"
	touch "$@"

# Prometheus' text parser for the end-to-end test's /metrics check.
PROMETHEUS_CLIENT_VERSION := 0.26.0
PROMETHEUS_CLIENT := $(VENV)/.prometheus-client-$(PROMETHEUS_CLIENT_VERSION)
$(PROMETHEUS_CLIENT): | $(VENV)/bin/python
	"$(VENV)/bin/pip" install -q "prometheus-client==$(PROMETHEUS_CLIENT_VERSION)"
	touch "$@"

STRUCTURED_CLIENTS := $(VENV)/.structured-$(JSONSCHEMA_VERSION)-$(LANGCHAIN_OPENAI_VERSION)
$(STRUCTURED_CLIENTS): | $(VENV)/bin/python
	"$(VENV)/bin/pip" install -q "jsonschema==$(JSONSCHEMA_VERSION)" "langchain-openai==$(LANGCHAIN_OPENAI_VERSION)"
	touch "$@"

test-e2e: build model $(OPENAI_CLIENT) $(PROMETHEUS_CLIENT) $(STRUCTURED_CLIENTS)
	Tests/EndToEnd/run.sh "$(BIN)/shiftadd" "$(MODEL)" "$(VENV)/bin/python"

# json_schema outputs and required tool calls, STRUCTURED_OUTPUTS_COUNT seeded requests of each, validated.
structured-outputs: build model $(OPENAI_CLIENT) $(STRUCTURED_CLIENTS)
	Scripts/structured-outputs.sh "$(BIN)/shiftadd" "$(MODEL)" "$(VENV)/bin/python" $(STRUCTURED_OUTPUTS_COUNT)

# Converts the default model on first use (cached) and serves it until Ctrl-C.
run: build model
	$(BIN)/shiftadd serve --model "$(MODEL)" --host $(HOST) --port $(PORT) --threads $(THREADS)

clean:
	rm -rf .build

# Fast-preset bundles of the default model for the benchmark, converted once and kept next to it.
# Speed depends only on shapes and bit widths, so the fast preset times like the default one.
BENCH_BUNDLE = $(MODEL_DIR)/$(MODEL_STEM_$(MODEL_NAME)).b$(1).fast.v2.sabundle
BENCH_THREADS ?= 2
BENCH_REPEAT ?= 3
BENCH_JSON ?= .build/bench.json

.PHONY: bench bench-http bench-serving bench-llamacpp ablation

$(call BENCH_BUNDLE,%): | build model
	$(BIN)/shiftadd-convert "$(MODEL)" "$@" --preset fast --distil-steps 0 --bits $* $(BENCH_FLAGS_$(MODEL_NAME)) --threads $(THREADS)

bench: build model $(call BENCH_BUNDLE,2) $(call BENCH_BUNDLE,3) $(call BENCH_BUNDLE,4)
	$(BIN)/shiftadd bench --bundle2 "$(call BENCH_BUNDLE,2)" --bundle3 "$(call BENCH_BUNDLE,3)" --bundle4 "$(call BENCH_BUNDLE,4)" \
	  --reference "$(MODEL)" --threads $(BENCH_THREADS) --repeat $(BENCH_REPEAT) --json-out "$(BENCH_JSON)"
	@echo "JSON report: $(BENCH_JSON)"

# llama.cpp as a benchmark peer (never a dependency): PyPI's llama-cpp-python built for this CPU in
# a virtual environment beside the model cache.
LLAMACPP_VENV ?= $(MODEL_DIR)/../llamacpp-venv
.PHONY: llamacpp-venv
llamacpp-venv:
	test -x "$(LLAMACPP_VENV)/bin/python" || python3 -m venv "$(LLAMACPP_VENV)"
	"$(LLAMACPP_VENV)/bin/python" -c 'import llama_cpp' 2>/dev/null || \
	  CMAKE_ARGS="-DGGML_NATIVE=ON" "$(LLAMACPP_VENV)/bin/pip" install --no-cache-dir llama-cpp-python==0.3.36

# Batch-1 decode of MODEL's 3-bit benchmark bundle, then of llama.cpp on the GGUF it came from, in
# one run, with their ratio.
bench-llamacpp: build model llamacpp-venv $(call BENCH_BUNDLE,3)
	$(BIN)/shiftadd bench --bundle3 "$(call BENCH_BUNDLE,3)" --threads $(BENCH_THREADS) --repeat 5 --batches 1 \
	  --json-out .build/bench-decode.json
	"$(LLAMACPP_VENV)/bin/python" Scripts/bench_llamacpp.py "$(MODEL)" $(BENCH_THREADS) 5 .build/bench-decode.json

# `shiftadd tokenize` against a reference tokenizer on the same GGUF: 2,200 varied lines, the whole of
# EVAL_TEXT and control-token lines, ids and decoded text (Docs/evaluation.md). SmolLM2's reference is
# Hugging Face tokenizers (in the project environment), Gemma 3's llama.cpp (llama-cpp-python, a peer
# only: never needed by the tests).
TOKENIZERS_VERSION := 0.23.3
GGUF_PY_VERSION := 0.19.0
TOKENIZERS := $(VENV)/.tokenizers-$(TOKENIZERS_VERSION)-gguf-$(GGUF_PY_VERSION)
$(TOKENIZERS): | $(VENV)/bin/python
	"$(VENV)/bin/pip" install -q "tokenizers==$(TOKENIZERS_VERSION)" "gguf==$(GGUF_PY_VERSION)"
	touch "$@"

.PHONY: tokenizer-agreement
ifeq ($(MODEL_NAME),gemma3-270m)
tokenizer-agreement: build model llamacpp-venv
	"$(LLAMACPP_VENV)/bin/python" Scripts/tokenizer_agreement.py "$(EVAL_TEXT)" --model "$(MODEL)" --reference llamacpp
else
tokenizer-agreement: build model $(TOKENIZERS)
	"$(VENV)/bin/python" Scripts/tokenizer_agreement.py "$(EVAL_TEXT)" --model "$(MODEL)" --reference tokenizers
endif

# One conversion per row, each evaluated on the first 16,384 tokens of EVAL_TEXT (wikitext-2 test).
ABLATION_PRESET ?= fast
EVAL_TEXT ?= ../shared/data/wikitext-2-raw/wiki.test.raw
# A text no option was tuned on (Debian's licence texts), for the ablation's second column.
UNSEEN_TEXT ?= /usr/share/common-licenses/GPL-3
ablation: build model
	Scripts/ablation.sh "$(BIN)" "$(MODEL)" "$(EVAL_TEXT)" .build/ablation $(ABLATION_PRESET) "$(UNSEEN_TEXT)"

# File size against perplexity (Docs/benchmarks.md): llama.cpp's quantizations of the default model
# (cached beside it) and bundles of sizes up to each smaller llama.cpp file's, up to PARETO_MAX_BYTES,
# and of PARETO_BITS bits (cached in .build/pareto/bundles/), each with batch-1 decode speed.
# PARETO_PRESET fast by default: one default-preset conversion takes about 10 minutes on 2 cores.
PARETO_TYPES ?= Q4_K_M Q4_0 Q3_K_M Q3_K_S Q2_K
PARETO_MAX_BYTES ?= 60000000 70000000 80000000
PARETO_MATCH_LLAMACPP ?= 1
PARETO_BITS ?= 3
# Head forms of each size-limited bundle: 8 (int8 rows) and 4 (planes; Docs/converter.md, head options).
PARETO_HEAD_BITS ?= 8 4
PARETO_PRESET ?= fast
PARETO_TOKENS ?= 16384
PARETO_REPEAT ?= 3
PARETO_PLOT ?= Docs/pareto.png
# Plots for `make pareto`, in the same environment as the openai client.
MATPLOTLIB_VERSION := 3.11.2
MATPLOTLIB := $(VENV)/.matplotlib-$(MATPLOTLIB_VERSION)
$(MATPLOTLIB): | $(VENV)/bin/python
	"$(VENV)/bin/pip" install -q "matplotlib==$(MATPLOTLIB_VERSION)"
	touch "$@"

.PHONY: pareto
pareto: build model llamacpp-venv $(MATPLOTLIB)
	"$(VENV)/bin/python" Scripts/pareto.py --bin $(BIN) --model "$(MODEL)" --text "$(EVAL_TEXT)" --out .build/pareto \
	  --plot "$(PARETO_PLOT)" --llamacpp-python "$(LLAMACPP_VENV)/bin/python" --llamacpp-types $(PARETO_TYPES) \
	  --max-bytes $(PARETO_MAX_BYTES) --match-llamacpp $(PARETO_MATCH_LLAMACPP) --bits $(PARETO_BITS) --head-bits $(PARETO_HEAD_BITS) \
	  --preset $(PARETO_PRESET) --tokens $(PARETO_TOKENS) --threads $(BENCH_THREADS) --convert-threads $(THREADS) \
	  --repeat $(PARETO_REPEAT)

# lm-evaluation-harness's `local-completions` model against `shiftadd serve` of the default model:
# its log-likelihoods must equal `shiftadd score`'s on the same bundle (Tests/EvalHarness/check.py).
LM_EVAL_VERSION := 0.4.13
LM_EVAL := $(VENV)/.lm-eval-$(LM_EVAL_VERSION)
$(LM_EVAL): | $(VENV)/bin/python
	"$(VENV)/bin/pip" install -q "lm-eval[api]==$(LM_EVAL_VERSION)"
	touch "$@"

.PHONY: eval-harness
eval-harness: build model $(LM_EVAL)
	"$(VENV)/bin/python" Tests/EvalHarness/check.py "$(BIN)/shiftadd" "$(MODEL)" .build/eval-harness

bench-http: build model $(call BENCH_BUNDLE,3)
	Scripts/bench-http.sh "$(BIN)/shiftadd" "$(call BENCH_BUNDLE,3)" 2000

# Serving figures measured at the client: streams scaling, inter-token latency, chunked prefill, prefix cache.
bench-serving: build model $(call BENCH_BUNDLE,3)
	Scripts/bench-serving.sh "$(BIN)/shiftadd" "$(call BENCH_BUNDLE,3)"

# Container image: built with podman from locally made bases (Docker/local-bases.sh), started with
# the default model mounted, exercised through its published port, stopped with SIGTERM.
CONTAINER_IMAGE ?= localhost/shiftadd:test
CONTAINER_PORT ?= 18080
CONTAINER_BUNDLE_VOLUME ?= shiftadd-test-bundles

.PHONY: test-container k8s-validate

test-container: model
	MODEL_DIR="$(MODEL_DIR)" CONTAINER_IMAGE="$(CONTAINER_IMAGE)" CONTAINER_PORT="$(CONTAINER_PORT)" \
	  CONTAINER_BUNDLE_VOLUME="$(CONTAINER_BUNDLE_VOLUME)" Docker/test-container.sh

# Kubernetes manifests checked against bundled API schemas (no cluster, no network).

# Installed into the project's virtual environment (made by the $(VENV)/bin/python rule).
$(K8S_VALIDATE): | $(VENV)/bin/python
	"$(VENV)/bin/pip" install -q "kubernetes-validate==$(K8S_VALIDATE_VERSION)"

k8s-validate: $(K8S_VALIDATE)
	KUBERNETES_VALIDATE="$(K8S_VALIDATE)" Docker/validate-k8s.sh

# Fuzzing (Tests/Fuzz: libFuzzer with AddressSanitizer): each target runs FUZZ_SECONDS from its
# committed seeds plus what earlier runs found; FUZZ_TARGETS picks some (e.g. "gguf bundle").
# Summary: .build/fuzz/summary.txt; crashing inputs: .build/fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
# The test targets run under the sanitizers (a regular expression for `swift test --filter`).
SANITIZE_FILTER ?= ShiftAddHTTPTests|ShiftAddSchedulerTests|ShiftAddServerTests|ShiftAddKernelTests|ShiftAddEngineTests

.PHONY: fuzz test-sanitize

fuzz: deps model
	FUZZ_SECONDS=$(FUZZ_SECONDS) Scripts/fuzz.sh $(FUZZ_TARGETS)

# AddressSanitizer with LeakSanitizer (Swift and C) and UndefinedBehaviorSanitizer (C), then
# ThreadSanitizer; each in its own scratch path under .build/sanitize/.
test-sanitize: deps model
	SANITIZE_FILTER="$(SANITIZE_FILTER)" Scripts/test-sanitize.sh

# Soak test: SOAK_SECONDS of mixed and misbehaving HTTP/1.1 and h2c clients against the default
# model, then memory, open descriptors and /metrics checked; summary in .build/soak/summary.json.
SOAK_SECONDS ?= 1800

.PHONY: soak

soak: build model
	SOAK_SECONDS=$(SOAK_SECONDS) Scripts/soak.sh "$(BIN)/shiftadd" "$(MODEL)"

# Fault injection against the server and converter: damaged bundles, a full disk (a tmpfs: needs root),
# clients that never read, slowloris, 2,000 connections, HTTP/2 floods, SIGTERM under load.
# Table: .build/faults/summary.json; exits 1 if any fault fails.
.PHONY: faults

faults: build model
	Scripts/faults.sh "$(BIN)" "$(MODEL)"

# The server built with AddressSanitizer (LeakSanitizer on) serves LEAK_REQUESTS requests of every
# kind, then SIGTERM: any leak or memory error reported at exit fails the check.
LEAK_REQUESTS ?= 1000

.PHONY: leak-check

leak-check: deps model
	Scripts/leak-check.sh "$(MODEL)" $(LEAK_REQUESTS)
