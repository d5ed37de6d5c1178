# The two commands: `make demo` and `make test`. Both set up .venv with pip first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lab setup clean gpu-check gpu-wheels

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

# The prepared GPU check (issue 16; docs/PERFORMANCE.md, "The GPU check"). Without CUDA it is the
# CPU rehearsal (--size tiny, the tiny models); with CUDA the full-size random-weight models.
GPU_CHECK_OUT ?= runs/gpu-check
GPU_CHECK_SIZE ?= $(shell $(BIN)/python -c "import torch; print('full' if torch.cuda.is_available() else 'tiny')" 2>/dev/null || echo tiny)
GPU_CHECK_ITEMS ?=
gpu-check: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/f2f gpu-check --out $(GPU_CHECK_OUT) --size $(GPU_CHECK_SIZE) $(if $(GPU_CHECK_ITEMS),--items $(GPU_CHECK_ITEMS))

# Wheels the GPU machine's image lacks (Python 3.12, x86-64), pinned to this venv's versions,
# into .whl/ (ignored); f2f_lab.gpu_check.wheels --check walks their requirements first.
WHEEL_PLATFORMS := $(foreach p,manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64,--platform $(p))
gpu-wheels: $(STAMP)
	$(BIN)/python -m f2f_lab.gpu_check.wheels --check
	rm -rf .whl && mkdir -p .whl
	$(BIN)/python -m f2f_lab.gpu_check.wheels > .whl/requirements.txt
	$(BIN)/pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		$(WHEEL_PLATFORMS) -d .whl -r .whl/requirements.txt
	@du -sh .whl; ls .whl/*.whl | wc -l
