# Thin wrappers: every target calls a script in scripts/.
.PHONY: setup demo demo-stop test lint sanity molecule unit docs bench preflight teardown ee-context awx-configure clean

ENV ?= local

setup:
	scripts/setup.sh

demo: setup
	scripts/demo.sh

demo-stop:
	.venv/bin/python scripts/emulator.py stop

test: setup
	scripts/test.sh

lint: setup
	scripts/test.sh lint

sanity: setup
	scripts/sanity.sh

unit: setup
	scripts/test.sh pytest

# Writes inputs.py, the README variable tables and preflight's defaults from the argument specs.
docs: setup
	.venv/bin/python scripts/docs.py

molecule: setup
	scripts/test.sh molecule

preflight: setup
	.venv/bin/ansible-playbook playbooks/preflight.yml -i inventories/$(ENV)

# make teardown ENV=local CONFIRM=local
teardown: setup
	.venv/bin/ansible-playbook playbooks/teardown.yml -i inventories/$(ENV) -e teardown_confirm=$(CONFIRM)

# The deploy bench (site.yml and the plain reference playbook alternately, 2 rounds each, then
# 4 environments) takes about 15 minutes on a quiet 2-core machine; the scale run (1, 4 and 16
# environments, sliced and not) about half an hour.
bench: setup
	.venv/bin/python bench/deploy_bench.py
	.venv/bin/python bench/migrations_bench.py
	.venv/bin/python bench/scale_bench.py

# Build context for the AWX execution environment (the image build itself needs a container engine).
ee-context: setup
	.venv/bin/ansible-galaxy collection build --force --output-path build/ee
	.venv/bin/ansible-builder create --file execution-environment.yml --context build/ee/context

# Configure AWX / Automation Platform (needs awx.awx from Galaxy and CONTROLLER_HOST / CONTROLLER_OAUTH_TOKEN).
awx-configure:
	.venv/bin/ansible-playbook awx/configure.yml

clean:
	-.venv/bin/python scripts/emulator.py stop
	rm -rf build .run outputs tests/output .pytest_cache .ruff_cache .ansible
