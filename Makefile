# The two set-up commands from the README: `make run` and `make test`.
.PHONY: run test venv bench

venv:
	@scripts/bootstrap.sh

run: venv
	.venv/bin/dreamface run

test: venv
	.venv/bin/python -m pytest --durations=20 $(PYTEST_ARGS)

bench: venv
	.venv/bin/python bench/render.py
