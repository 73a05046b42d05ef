#!/usr/bin/env bash
# Stop the cluster of tests/system/slurm-up.sh STATE_DIR.
set -uo pipefail
state=$(realpath -m "${1:?usage: slurm-down.sh STATE_DIR}")
for pidfile in "$state/slurmd.pid" "$state/slurmctld.pid" "$state/munge/munged.pid"; do
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
done
if [ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$state/slurm.conf" ]; then
  rm -f /etc/slurm/slurm.conf
fi
exit 0
