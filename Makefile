# The two commands: `make demo` and `make test`. Both set up .venv with pip first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lab setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,notebooks]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/f2f demo --overwrite

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

# Root (containers, cloud boxes) needs --allow-root; nobody else should pass it.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

clean:
	rm -rf $(VENV) runs
