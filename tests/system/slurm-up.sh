#!/usr/bin/env bash
# Bring up a single-node Slurm cluster on localhost (Debian slurm-wlm + munge), for the
# integration test. Usage: tests/system/slurm-up.sh STATE_DIR
# Writes STATE_DIR/slurm.conf and links /etc/slurm/slurm.conf to it (jobs' own srun calls
# read the default location), refusing to replace a slurm.conf it did not write.
# No accounting daemon: the workflow profile polls job states with squeue.
# Needs root (slurmd runs jobs as their submitting user). Idempotent: a cluster already
# answering on STATE_DIR is left alone.
set -euo pipefail
state=$(realpath -m "${1:?usage: slurm-up.sh STATE_DIR}")
mkdir -p "$state"/{spool,ctld,log,munge}
export SLURM_CONF="$state/slurm.conf"
if [ -f "$SLURM_CONF" ] && sinfo -h >/dev/null 2>&1; then
  echo "slurm: already up ($SLURM_CONF)"
  exit 0
fi
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)

# munge: a private key and socket under the state directory.
if [ ! -f "$state/munge/munge.key" ]; then
  dd if=/dev/urandom of="$state/munge/munge.key" bs=1 count=1024 status=none
  chmod 400 "$state/munge/munge.key"
fi
chmod 700 "$state/munge"
munged --force --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" \
  --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" \
  --seed-file="$state/munge/munged.seed"

cat > "$SLURM_CONF" <<CONF
ClusterName=survomics
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.socket
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
MinJobAge=600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

mkdir -p /etc/slurm
if [ -e /etc/slurm/slurm.conf ] && ! grep -q "^ClusterName=survomics$" /etc/slurm/slurm.conf; then
  echo "slurm: /etc/slurm/slurm.conf exists and is not ours; not touching it" >&2
  exit 1
fi
ln -sfn "$SLURM_CONF" /etc/slurm/slurm.conf

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 60); do
  if sinfo -h -o "%T" 2>/dev/null | grep -qE "^idle"; then
    echo "slurm: up ($SLURM_CONF, node $host, $cpus CPUs, $mem MB)"
    exit 0
  fi
  sleep 1
done
echo "slurm: node did not become idle; see $state/log/" >&2
sinfo >&2 || true
tail -20 "$state/log/slurmctld.log" "$state/log/slurmd.log" >&2 || true
exit 1
