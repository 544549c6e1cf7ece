# Quality gates for msgraph.migrations (issue 3).
#
# Included by the top-level Makefile (`include mk/gates.mk`); also usable on its
# own: `make -f mk/gates.mk gates`.  Every gate is its own target:
#
#   make sanity           ansible-test sanity, newest ansible-core (2.19 on Python 3.11,
#                         2.21 on Python 3.12 when a working python3.12 exists)
#   make ansible-units    ansible-test units, newest ansible-core and 2.17
#   make integration      ansible-test integration (emulator-backed), newest and 2.17
#   make lint             ansible-lint --profile production over every shipped playbook
#   make importer         ansible-galaxy collection build + galaxy-importer (no containers)
#   make docs-lint        antsibull-docs lint-collection-docs --plugin-docs
#   make changelog-lint   antsibull-changelog lint + CHANGELOG.md up to date
#   make ee               ansible-builder introspect (collection deps) + create (AWX EE)
#   make gates            all of the above
#
# Tools live in their own virtualenvs under .venv-gates/ (created on first use,
# recreated when their pins in tools/gates-requirements/ change); everything else
# goes to build/.  Tools that write to ~ get HOME=build/home.

GATES_MK       := $(abspath $(lastword $(MAKEFILE_LIST)))
GATES_ROOT     := $(patsubst %/,%,$(dir $(patsubst %/,%,$(dir $(GATES_MK)))))
GATES_BUILD    := $(GATES_ROOT)/build
GATES_VENVS    := $(GATES_ROOT)/.venv-gates
GATES_HOME     := $(GATES_BUILD)/home
GATES_DIST     := $(GATES_BUILD)/dist
GATES_REQS     := $(GATES_ROOT)/tools/gates-requirements
GATES_PIP      := -m pip install -qq --disable-pip-version-check

# Interpreters.  python3.11 runs ansible-core 2.17 and 2.19; ansible-core 2.20+
# needs Python 3.12.  pyenv may provide a python3.12 shim without a working
# interpreter behind it, so each candidate is tried, then pyenv's own installs.
ifeq ($(origin GATES_PY311),undefined)
GATES_PY311 := $(firstword $(foreach p,python3.11 python3,$(shell $(p) -c 'import sys; assert sys.version_info[:2] == (3, 11)' >/dev/null 2>&1 && command -v $(p))))
endif
ifeq ($(origin GATES_PY312),undefined)
GATES_PY312 := $(firstword $(foreach p,python3.12 $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/3.12*/bin/python3.12),$(shell $(p) -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && command -v $(p))))
endif

# ansible-core lines under test.  NEWEST: sanity, units, integration.  OLDEST
# (what requires_ansible in meta/runtime.yml admits): units and integration.
GATES_CORE_NEWEST := 2.19 $(if $(GATES_PY312),2.21)
GATES_CORE_OLDEST := 2.17
GATES_SANITY_CORES ?= $(GATES_CORE_NEWEST)
GATES_TEST_CORES   ?= $(GATES_CORE_OLDEST) $(GATES_CORE_NEWEST)
GATES_ALL_CORES    := 2.17 2.19 2.21
GATES_TOOL_CORE    := 2.19

gates_py    = $(if $(filter 2.20 2.21 2.22,$(1)),$(GATES_PY312),$(GATES_PY311))
gates_pyver = $(if $(filter 2.20 2.21 2.22,$(1)),3.12,3.11)
gates_venv  = $(GATES_VENVS)/$(1)
# One staged copy of the collection per ansible-core, so runs cannot collide under make -j.
gates_tree  = $(GATES_BUILD)/ansible-test/core-$(1)/ansible_collections/msgraph/migrations

# Environment for tools that would write to ~.  ansible-test looks for its pip
# bootstrap script in $HOME/.ansible/test/cache, where gates_ansible_test puts it.
# The top-level Makefile exports ANSIBLE_COLLECTIONS_PATH (pointing at the work
# tree): the gates must see only the copy or artifact they test.
GATES_ENV = env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_COLLECTIONS_PATHS -u ANSIBLE_CONFIG HOME=$(GATES_HOME) ANSIBLE_HOME=$(GATES_HOME)/.ansible \
	XDG_CACHE_HOME=$(GATES_HOME)/.cache XDG_CONFIG_HOME=$(GATES_HOME)/.config \
	ANSIBLE_LOCAL_TEMP=$(GATES_HOME)/.ansible/tmp ANSIBLE_NOCOLOR=1 PY_COLORS=0

# ansible-test in the staged tree with the venv of ansible-core $(1) first on PATH,
# after putting the offline pip bootstrap stand-in where that ansible-test looks.
gates_ansible_test = $(GATES_PY311) $(GATES_ROOT)/tools/install_get_pip_standin.py $(GATES_HOME) \
	$(call gates_venv,core-$(1)) && cd $(call gates_tree,$(1)) && $(GATES_ENV) PATH=$(call gates_venv,core-$(1))/bin:$$PATH \
	$(call gates_venv,core-$(1))/bin/ansible-test

_GATES_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

.PHONY: gates sanity ansible-units integration lint importer docs-lint changelog-lint ee \
	$(addprefix gates-tree-,$(GATES_ALL_CORES)) gates-home gates-venvs gates-clean gates-info gates-tarball changelog-release \
	$(addprefix sanity-,$(GATES_ALL_CORES)) \
	$(addprefix ansible-units-,$(GATES_ALL_CORES)) \
	$(addprefix integration-,$(GATES_ALL_CORES))

gates: sanity ansible-units integration lint importer docs-lint changelog-lint ee
	@echo "== all quality gates passed"

gates-info:
	@echo "python3.11: $(or $(GATES_PY311),MISSING)"
	@echo "python3.12: $(or $(GATES_PY312),not found: ansible-core 2.21 is skipped)"
	@echo "sanity on ansible-core: $(GATES_SANITY_CORES)"
	@echo "units/integration on ansible-core: $(GATES_TEST_CORES)"

# ---------------------------------------------------------------------------
# Virtualenvs (stamp files make repeats free; pins in tools/gates-requirements/)

gates-venvs: $(foreach c,$(sort $(GATES_SANITY_CORES) $(GATES_TEST_CORES) $(GATES_TOOL_CORE)),$(call gates_venv,core-$(c))/.stamp) \
	$(foreach v,lint importer docs builder,$(call gates_venv,$(v))/.stamp)

$(GATES_VENVS)/core-%/.stamp: $(GATES_REQS)/core-%.txt $(GATES_ROOT)/requirements.txt \
		$(wildcard $(GATES_ROOT)/tests/unit/requirements.txt $(GATES_ROOT)/emulator/requirements.txt)
	@test -n "$(call gates_py,$*)" || { echo "no Python $(call gates_pyver,$*) for ansible-core $*" >&2; exit 1; }
	@echo "== venv: ansible-core $* on $(call gates_py,$*)"
	rm -rf $(@D)
	$(call gates_py,$*) -m venv $(@D)
	cd $(GATES_ROOT) && $(@D)/bin/python $(GATES_PIP) -r $(GATES_REQS)/core-$*.txt -r requirements.txt \
		$(foreach f,$(wildcard $(GATES_ROOT)/tests/unit/requirements.txt $(GATES_ROOT)/emulator/requirements.txt),-r $(f))
	# what `ansible-test units` needs (pytest, pytest-xdist, ...), from the installed ansible-test
	d=$$($(@D)/bin/python -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_data", "requirements"))') && \
		$(@D)/bin/python $(GATES_PIP) -r $$d/units.txt -c $$d/constraints.txt
	touch $@

# ansible-lint needs the collection's Python requirements to load module argspecs (args rule).
$(GATES_VENVS)/lint/.stamp: $(GATES_REQS)/lint.txt $(GATES_ROOT)/requirements.txt
	@echo "== venv: ansible-lint"
	rm -rf $(@D)
	$(GATES_PY311) -m venv $(@D)
	$(@D)/bin/python $(GATES_PIP) -r $(GATES_REQS)/lint.txt -r $(GATES_ROOT)/requirements.txt
	touch $@

$(GATES_VENVS)/%/.stamp: $(GATES_REQS)/%.txt
	@echo "== venv: $*"
	rm -rf $(@D)
	$(GATES_PY311) -m venv $(@D)
	$(@D)/bin/python $(GATES_PIP) -r $<
	touch $@

# ---------------------------------------------------------------------------
# Shared preparation

# HOME for the tools (build/home).
gates-home:
	@mkdir -p $(GATES_HOME)/.ansible/tmp

# The collection as ansible-test wants it: build/ansible-test/core-X/ansible_collections/msgraph/migrations,
# holding what git would commit (tracked + untracked-but-not-ignored), git-added there.
$(addprefix gates-tree-,$(GATES_ALL_CORES)): gates-tree-%:
	$(GATES_PY311) $(GATES_ROOT)/tools/stage_collection.py $(GATES_ROOT) $(call gates_tree,$*)

# ---------------------------------------------------------------------------
# ansible-test

sanity: $(addprefix sanity-,$(GATES_SANITY_CORES))
	@echo "== sanity passed on ansible-core $(GATES_SANITY_CORES)"

# No tests/sanity/ignore-*.txt entries are allowed (comments and blank lines are).
$(addprefix sanity-,$(GATES_ALL_CORES)): sanity-%: $(GATES_VENVS)/core-%/.stamp gates-tree-% gates-home
	@! grep -Hnv '^[[:space:]]*\(#.*\)\?$$' $(GATES_ROOT)/tests/sanity/ignore-*.txt 2>/dev/null \
		|| { echo "tests/sanity/ignore-*.txt must have no entries" >&2; exit 1; }
	@echo "== ansible-test sanity: ansible-core $* on Python $(call gates_pyver,$*)"
	$(call gates_ansible_test,$*) sanity --venv --python $(call gates_pyver,$*) --color no --truncate 0

ansible-units: $(addprefix ansible-units-,$(GATES_TEST_CORES))
	@echo "== ansible-test units passed on ansible-core $(GATES_TEST_CORES)"

$(addprefix ansible-units-,$(GATES_ALL_CORES)): ansible-units-%: $(GATES_VENVS)/core-%/.stamp gates-tree-% gates-home
	@echo "== ansible-test units: ansible-core $* on Python $(call gates_pyver,$*)"
	$(call gates_ansible_test,$*) units --local --python $(call gates_pyver,$*) --color no

integration: $(addprefix integration-,$(GATES_TEST_CORES))
	@echo "== ansible-test integration passed on ansible-core $(GATES_TEST_CORES)"

$(addprefix integration-,$(GATES_ALL_CORES)): integration-%: $(GATES_VENVS)/core-%/.stamp gates-tree-% gates-home
	@echo "== ansible-test integration: ansible-core $* on Python $(call gates_pyver,$*)"
	$(call gates_ansible_test,$*) integration --local --python $(call gates_pyver,$*) --color no

# ---------------------------------------------------------------------------
# ansible-lint: every playbook the project ships (examples/, docs/, integration targets).
# Not offline (offline mode would not install this collection for syntax-check),
# but with no schema refresh: only package registries are reachable here.

lint: $(GATES_VENVS)/lint/.stamp gates-home
	@echo "== ansible-lint --profile production"
	cd $(GATES_ROOT) && $(GATES_ENV) ANSIBLE_LINT_SKIP_SCHEMA_UPDATE=1 PATH=$(call gates_venv,lint)/bin:$$PATH \
		ansible-lint --profile production --strict --enable-list args -c .ansible-lint --nocolor

# ---------------------------------------------------------------------------
# galaxy-importer on the built tarball, without containers.

GATES_TARBALL = $(GATES_DIST)/msgraph-migrations-$(GATES_VERSION).tar.gz

gates-tarball: $(call gates_venv,core-$(GATES_TOOL_CORE))/.stamp gates-home
	rm -rf $(GATES_DIST) && mkdir -p $(GATES_DIST)
	cd $(GATES_ROOT) && $(GATES_ENV) $(call gates_venv,core-$(GATES_TOOL_CORE))/bin/ansible-galaxy \
		collection build --force --output-path $(GATES_DIST) .

importer: $(GATES_VENVS)/importer/.stamp gates-tarball
	@echo "== galaxy-importer on $(notdir $(GATES_TARBALL))"
	rm -rf $(GATES_BUILD)/importer && mkdir -p $(GATES_BUILD)/importer/tmp
	sed 's|@IMPORTER_TMP@|$(GATES_BUILD)/importer/tmp|g' $(GATES_ROOT)/tools/galaxy-importer.cfg \
		> $(GATES_BUILD)/importer/galaxy-importer.cfg
	cd $(GATES_BUILD)/importer && $(GATES_ENV) GALAXY_IMPORTER_CONFIG=$(GATES_BUILD)/importer/galaxy-importer.cfg \
		PATH=$(call gates_venv,importer)/bin:$$PATH \
		python -m galaxy_importer.main $(GATES_TARBALL) > importer.log 2>&1; \
		rc=$$?; cat importer.log; test $$rc -eq 0
	@# galaxy-importer reports problems as WARNING/ERROR lines and may still exit 0.
	@! grep -nE '(WARNING|ERROR|CRITICAL)' $(GATES_BUILD)/importer/importer.log \
		|| { echo "galaxy-importer reported problems (above)" >&2; exit 1; }
	@grep -q 'Importer processing completed successfully' $(GATES_BUILD)/importer/importer.log \
		|| { echo "galaxy-importer did not finish" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Documentation and changelog

docs-lint: $(GATES_VENVS)/docs/.stamp gates-home
	@echo "== antsibull-docs lint-collection-docs --plugin-docs"
	cd $(GATES_ROOT) && $(GATES_ENV) PATH=$(call gates_venv,docs)/bin:$$PATH \
		antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
		--validate-collection-refs=all --disallow-unknown-collection-refs .

changelog-lint: $(GATES_VENVS)/docs/.stamp gates-home
	@echo "== antsibull-changelog lint"
	cd $(GATES_ROOT) && $(GATES_ENV) PATH=$(call gates_venv,docs)/bin:$$PATH antsibull-changelog lint
	cd $(GATES_ROOT) && $(GATES_ENV) PATH=$(call gates_venv,docs)/bin:$$PATH \
		antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	@# CHANGELOG.md must be what antsibull-changelog generates from changelogs/.
	rm -rf $(GATES_BUILD)/changelog && mkdir -p $(GATES_BUILD)/changelog
	cd $(GATES_ROOT) && cp -r galaxy.yml CHANGELOG.md changelogs $(GATES_BUILD)/changelog/
	cd $(GATES_BUILD)/changelog && $(GATES_ENV) PATH=$(call gates_venv,docs)/bin:$$PATH antsibull-changelog generate
	diff -u $(GATES_ROOT)/CHANGELOG.md $(GATES_BUILD)/changelog/CHANGELOG.md \
		|| { echo "CHANGELOG.md is stale: run make changelog-release" >&2; exit 1; }
	$(call gates_venv,docs)/bin/python $(GATES_ROOT)/tools/check_changelog_fragments.py $(GATES_ROOT)

# Fold new fragments into the release named by galaxy.yml's version and
# regenerate CHANGELOG.md (run after adding a fragment; commit the results).
GATES_VERSION := $(shell sed -n 's/^version:[[:space:]]*//p' $(GATES_ROOT)/galaxy.yml | tr -d "\"'")

changelog-release: $(GATES_VENVS)/docs/.stamp gates-home
	cd $(GATES_ROOT) && $(GATES_ENV) PATH=$(call gates_venv,docs)/bin:$$PATH \
		antsibull-changelog release --version $(GATES_VERSION)

# ---------------------------------------------------------------------------
# Execution environment

ee: gates-tarball $(GATES_VENVS)/builder/.stamp
	@echo "== ansible-builder introspect (installed collection) + create (AWX EE)"
	rm -rf $(GATES_BUILD)/ee && mkdir -p $(GATES_BUILD)/ee
	$(GATES_ENV) ANSIBLE_COLLECTIONS_PATH=$(GATES_BUILD)/ee/collections \
		$(call gates_venv,core-$(GATES_TOOL_CORE))/bin/ansible-galaxy collection install \
		--offline --no-deps --force -p $(GATES_BUILD)/ee/collections $(GATES_TARBALL)
	$(GATES_ENV) $(call gates_venv,builder)/bin/ansible-builder introspect --sanitize \
		$(GATES_BUILD)/ee/collections > $(GATES_BUILD)/ee/introspect.txt
	cat $(GATES_BUILD)/ee/introspect.txt
	$(call gates_venv,builder)/bin/python $(GATES_ROOT)/tools/check_introspect.py $(GATES_BUILD)/ee/introspect.txt $(GATES_ROOT)
	cd $(GATES_ROOT)/docs/awx && $(GATES_ENV) $(call gates_venv,builder)/bin/ansible-builder create \
		--file execution-environment.yml --context $(GATES_BUILD)/ee/context --output-filename Containerfile
	test -s $(GATES_BUILD)/ee/context/Containerfile

# ---------------------------------------------------------------------------

gates-clean:
	rm -rf $(GATES_VENVS) $(GATES_HOME) $(GATES_BUILD)/ansible-test $(GATES_DIST) \
		$(GATES_BUILD)/importer $(GATES_BUILD)/ee $(GATES_BUILD)/changelog

# Leave the includer's default goal alone; on its own (make -f mk/gates.mk) the default is `gates`.
.DEFAULT_GOAL := $(or $(_GATES_SAVED_DEFAULT_GOAL),$(if $(filter 1,$(words $(MAKEFILE_LIST))),gates))
