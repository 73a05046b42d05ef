#!/usr/bin/env bash
# System packages the test suite needs beyond Python (called by `make test`):
#   slurm-wlm, munge      the single-node Slurm cluster of tests/test_slurm.py
#   environment-modules   the per-rule environments of tests/test_envmodules.py
#   chromium              the headless browser of tests/test_browser.py (the report)
# Installs them with apt-get when missing and running as root; otherwise says what to
# install and exits 0 (the Slurm test then fails with the same message).
set -uo pipefail
missing=()
command -v slurmctld >/dev/null 2>&1 || missing+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || missing+=(munge)
[ -f /usr/share/modules/init/bash ] || missing+=(environment-modules)
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit $?
fi
echo "note: system packages missing for the Slurm, env-modules and browser tests: ${missing[*]}" \
  "(Debian: sudo apt-get install ${missing[*]})" >&2
exit 0
