#!/usr/bin/env bash
# CI: a single-node Slurm (munge, slurmctld, slurmd) with two fake GPUs, so the slurm launcher's tests
# submit real jobs with --gres=gpu:N. Run as root after `apt-get install slurm-wlm munge`. Idempotent:
# files are rewritten only when they differ, daemons started only when not running (and restarted
# when their config changed). Why each step: /work/shared/notes/feedback-loop.md, "Slurm".
set -euo pipefail

say() { echo "slurm.sh: $*"; }
die() { echo "slurm.sh: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run me as root (munged, mknod and slurmd need it)"
for bin in munged slurmctld slurmd sinfo; do
  command -v "$bin" >/dev/null 2>&1 || die "$bin is not installed: apt-get install slurm-wlm munge"
done

# Writes stdin to $1 when the content differs, and notes that the daemons need a restart.
changed=0
put() {
  local file=$1 new
  new=$(cat)
  if [ -f "$file" ] && [ "$(cat "$file")" = "$new" ]; then return 0; fi
  printf '%s\n' "$new" >"$file"
  changed=1
  say "wrote $file"
}

# --- munge: the key (the package makes one), its run dir, the daemon.
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  say "created /etc/munge/munge.key"
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already running"
else
  su -s /bin/sh munge -c munged
  say "started munged"
fi
munge -n | unmunge >/dev/null || die "munge credentials do not round-trip (munge -n | unmunge)"

# --- fake GPUs: Slurm drops file-less GPUs (node INVALID), so give it device files to point at.
# Nothing opens them: CUDA_VISIBLE_DEVICES is all a job sees of them.
for i in 0 1; do
  if [ ! -e /dev/nvidia$i ]; then mknod /dev/nvidia$i c 195 $i; say "mknod /dev/nvidia$i"; fi
done

# --- config. CPUs from nproc; RealMemory 90% of total so slurmd never finds less than configured.
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cpus=$(nproc)
mem=$(free -m | awk '/^Mem:/ { print int($2 * 0.9) }')
put /etc/slurm/gres.conf <<'EOF'
# Written by .ci/slurm.sh: two fake GPUs (device nodes made with mknod, no driver).
AutoDetect=off
Name=gpu File=/dev/nvidia[0-1]
EOF
put /etc/slurm/slurm.conf <<EOF
# Written by .ci/slurm.sh: a single-node cluster for tunewatch's slurm launcher tests.
ClusterName=tunewatch-ci
SlurmctldHost=localhost
AuthType=auth/munge
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# No slurmdbd: finished jobs are followed with scontrol, which keeps them MinJobAge seconds.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
MinJobAge=300
ReturnToService=2
NodeName=localhost CPUs=$cpus RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=gpu Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# --- daemons. A running daemon whose config just changed is restarted (by its pid file).
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop() {
  local pidfile=$1 pid
  running "$pidfile" || return 0
  pid=$(cat "$pidfile"); kill "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || { say "stopped $2 (config changed)"; return 0; }; sleep 0.1; done
  die "$2 (pid $pid) did not stop"
}
if [ "$changed" = 1 ]; then stop /run/slurmd.pid slurmd; stop /run/slurmctld.pid slurmctld; fi
if running /run/slurmctld.pid; then say "slurmctld already running"; else slurmctld; say "started slurmctld"; fi
# The node is named localhost in slurm.conf, not after this machine's hostname: name it.
if running /run/slurmd.pid; then say "slurmd already running"; else slurmd -N localhost; say "started slurmd -N localhost"; fi

# --- wait (bounded) for the node to take jobs. Busy states count: a rerun may find jobs running.
state=""
for _ in $(seq 60); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null | head -n1 || true)
  case "$state" in idle | mixed | allocated | completing) break ;; esac
  sleep 0.5
done
case "$state" in
  idle | mixed | allocated | completing) ;;
  *) die "node localhost is '${state:-unreachable}' after 30 s; see /var/log/slurm/slurmctld.log and slurmd.log ($(sinfo -h -R 2>/dev/null | head -n1))" ;;
esac
say "node localhost is $state: $cpus CPUs, ${mem} MB, gres $(sinfo -h -n localhost -o %G)"
