# The course's two commands: `make demo` (set up and run the main job) and `make test`.
# Both create or reuse the virtual environment in .venv and install only what is missing,
# so the second run is fast.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all demo course sysdeps test lint format bench env clean

all: test

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The main job: train the demo models, build the course (instructor notebooks, student
# release, executed solution notebooks), grade the bundled sample submissions with the
# sandboxed grading command (python -m autograder grade), print the table.
demo: $(STAMP) sysdeps
	$(BIN)/python -m solutions.demo
	$(BIN)/python course/build.py all
	$(BIN)/python course/build.py autograde

# bubblewrap sandboxes the grading command; installed when we are root, else a warning.
sysdeps:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq bubblewrap; } \
	  || echo "bubblewrap is missing: grading will run without the file-system sandbox"

# Rebuild the notebooks and the student release from their sources (no execution).
course: $(STAMP)
	$(BIN)/python course/build.py notebooks
	$(BIN)/python course/build.py release

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cells.py
	$(BIN)/python benchmarks/bench_batched.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
