# The two set-up commands from the README: `make run` and `make test`.
.PHONY: run test venv bench

venv:
	@scripts/bootstrap.sh

run: venv
	.venv/bin/dreamface run

# One pytest worker per core (pytest-xdist), a test file per worker at a time, so module
# fixtures are built once; then the timing-bound multi-process tests (marker `serial`) alone.
# TEST_WORKERS=0 runs the first part in one process.
TEST_WORKERS ?= auto
test: venv
	.venv/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=20 -m "not serial" $(PYTEST_ARGS)
	.venv/bin/python -m pytest --durations=10 -m serial $(PYTEST_ARGS)

bench: venv
	.venv/bin/python bench/render.py
