# The two set-up commands of README.md: `make demo` and `make test`.
# Both install what they need (Debian packages, a virtual environment, the
# package) and must work as root on a fresh Debian machine.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SANDBOX ?= demo
SANDBOX_ROOT ?= /var/lib/sshorch-sandboxes
APT_PACKAGES := podman runc iptables iproute2 util-linux procps openssh-server openssh-client busybox-static cron conntrack curl
# Only the tests need these: a registry that asks for credentials (tests/e2e/test_pull_secrets.py).
TEST_APT_PACKAGES := docker-registry

.PHONY: demo test unit e2e typecheck deps test-deps venv demo-down clean vagrant-test fresh-check

INVENTORY = $(SANDBOX_ROOT)/$(SANDBOX)/inventory.yml

demo: deps venv
	@$(BIN)/sshorch sandbox status --name $(SANDBOX) >/dev/null 2>&1 \
	  || $(BIN)/sshorch sandbox up --name $(SANDBOX) --nodes 3
	@$(BIN)/sshorch secret get -i $(INVENTORY) shop-db password >/dev/null 2>&1 \
	  || head -c 18 /dev/urandom | base64 | tr -d '\n' | $(BIN)/sshorch secret set -i $(INVENTORY) shop-db password=@-
	@$(BIN)/sshorch apply -i $(INVENTORY) -f examples/shop --yes
	@$(BIN)/sshorch status -i $(INVENTORY)

demo-down: venv
	$(BIN)/sshorch sandbox down --name $(SANDBOX)

test: deps test-deps venv
	$(BIN)/pytest -q tests
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -q tests/unit

e2e: deps test-deps venv
	$(BIN)/pytest -q tests/e2e

typecheck: venv
	$(BIN)/mypy

# The Vagrant cluster on real VMs (root, libvirt; see README): the tools, libvirtd,
# the local box, then the test, which brings the VMs up and destroys them.
VAGRANT_APT_PACKAGES := vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils \
  ipxe-qemu dnsmasq-base debootstrap fdisk e2fsprogs extlinux syslinux-common

vagrant-test: deps venv
	@missing=$$(for p in $(VAGRANT_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@virsh -c qemu:///system version >/dev/null 2>&1 || { \
	  if [ -d /run/systemd/system ]; then systemctl start libvirtd; \
	  else pgrep -x virtlogd >/dev/null || virtlogd -d; libvirtd -d; sleep 2; fi; }
	vagrant/build-box
	SSHORCH_VAGRANT=1 $(BIN)/pytest -q tests/vagrant

# Installs those of the Debian packages $(1) that are missing; $(2): shell that adds to $$missing.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	$(2) \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

# `make demo` in a fresh Debian 12 root on this machine, from a clean clone of
# HEAD (root; see tests/fresh/check). This machine needs only these packages.
FRESH_APT_PACKAGES := debootstrap iproute2 iptables

fresh-check:
	$(call apt_install,$(FRESH_APT_PACKAGES))
	tests/fresh/check

deps:
	$(call apt_install,$(APT_PACKAGES),if ! $(PYTHON) -c 'import ensurepip' >/dev/null 2>&1; then missing="$$missing python3-venv"; fi;)

test-deps:
	$(call apt_install,$(TEST_APT_PACKAGES))

venv: $(VENV)/.installed

# pip's own output goes to a log, shown only when it fails.
$(VENV)/.installed: pyproject.toml
	@echo "installing sshorch and its dependencies into $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@{ $(BIN)/pip install -q --upgrade pip && $(BIN)/pip install -q -e '.[test]'; } >$(VENV)/install.log 2>&1 \
	  || { cat $(VENV)/install.log; exit 1; }
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache *.egg-info
