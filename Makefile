.PHONY: setup run test lint

setup:
	@bash scripts/setup.sh

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

lint:
	@.venv/bin/ruff check src tests benchmarks
