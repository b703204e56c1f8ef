# The few commands everyone runs. `make report` and `make test` work on a fresh machine with
# Python 3.11, pip and venv: they create .venv and install the pinned requirements first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

START ?= 2025-10-15
END ?= 2025-11-14
TIMEZONE ?= Asia/Shanghai
RUN_ARGS ?=

.PHONY: venv report test lint lab notebooks sample bench clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

report: $(STAMP)
	$(PY) -m lib.run --start $(START) --end $(END) --timezone $(TIMEZONE) $(RUN_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check lib tests benchmarks scripts

test: lint
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks

# Re-execute the committed notebooks in place on the sample (their outputs are what nbval checks).
notebooks: $(STAMP)
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False notebooks/[0-9][0-9]_*.ipynb

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

sample: $(STAMP)
	$(PY) -m lib.simulate --out data/sample

# Benchmarks (benchmarks/README.md): 1M and 10M events; BENCH_ARGS="--with-100m" adds 100M.
# Polars is a benchmark-only dependency, installed here rather than in requirements.lock.
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
