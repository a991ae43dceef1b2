.PHONY: setup run writer-run test lint

setup:
	@bash scripts/setup.sh
	@bash scripts/setup_writer.sh || [ $$? -eq 3 ]

run:
	@bash scripts/run.sh

writer-run:
	@bash scripts/run_writer.sh

test:
	@bash scripts/test.sh

lint:
	@.venv/bin/ruff check src tests benchmarks
