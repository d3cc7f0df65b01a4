.PHONY: run test lint chat bench

run:  ## set up and serve the web chat (and Telegram when a token is set) on http://127.0.0.1:8080
	scripts/run.sh

test:  ## set up, lint and run the whole test suite (SQLite and PostgreSQL)
	scripts/test.sh

lint:
	scripts/setup.sh
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

chat:
	scripts/setup.sh
	.venv/bin/motcua chat

bench:
	scripts/setup.sh
	.venv/bin/python bench/retrieval.py
	.venv/bin/python bench/chat_load.py
