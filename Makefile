# The course's two everyday commands:
#   make lab    set everything up (first time only) and open your workspace (work/: your own
#               copies of the notebooks) in JupyterLab; Ctrl-C stops it and its kernels
#   make test   set everything up (first time only) and run the whole test suite
#   make hub    a trial class on JupyterHub on this machine (USERS=4 learners)
# Both create the virtual environment .venv and install the course into it when needed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# pytest-xdist workers; each notebook runs in its own kernel on one worker
WORKERS ?= 2

.PHONY: lab test build check-build slides bench hub clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet "pip>=23"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/vae-course lab

# One torch thread per test worker: two workers x two threads on two cores made torch's thread
# pool spin and slowed training ~10x in our measurements.
test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(WORKERS) --dist loadscope --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=900 -p no:cacheprovider -q -rs \
		tests notebooks solutions

build: $(STAMP)
	$(BIN)/vae-course build

slides: $(STAMP)
	$(BIN)/vae-course slides

bench: $(STAMP)
	$(BIN)/vae-course bench --json build/bench.json

# A trial class on this machine: JupyterHub with USERS learners (Ctrl-C stops everything)
USERS ?= 4
hub: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[hub]"
	$(BIN)/vae-course hub --users $(USERS)

clean-venv:
	rm -rf $(VENV)
