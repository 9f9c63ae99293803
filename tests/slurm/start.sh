#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on this machine, for tests/slurm.rs (and for trying
# `aimarket slurm --submit` by hand):
#
#   tests/slurm/start.sh start    # install slurm-wlm and munge if missing, start munged,
#                                 # slurmctld and slurmd, wait until the node is idle
#   tests/slurm/start.sh status   # which daemons run, and sinfo
#   tests/slurm/start.sh stop     # stop exactly the daemons `start` started, by PID
#
# Then use the cluster with SLURM_CONF set to the printed path, e.g.
#   export SLURM_CONF=/tmp/aimarket-slurm/slurm.conf; sbatch --wrap hostname; squeue
#
# Everything lives under $AIMARKET_SLURM_DIR (default /tmp/aimarket-slurm): the slurm.conf,
# state, spool, logs and the PIDs of the daemons started. /etc/slurm is never written: the
# daemons get the conf with -f and the clients through SLURM_CONF. A munged that already
# answers (`munge -n | unmunge`) is used and left running; otherwise munged is started as the
# munge user (it refuses to run as root) with a /run/munge it creates (no systemd here).
#
# Exit codes: 0 ok; 77 this machine cannot run a cluster (not root, packages not installable),
# with the reason on stderr; anything else is a failure (the logs are shown).
set -euo pipefail

export PATH=$PATH:/usr/sbin:/sbin
dir=${AIMARKET_SLURM_DIR:-/tmp/aimarket-slurm}
conf=$dir/slurm.conf
pids=$dir/pids
logs=$dir/log

say() { echo "slurm: $*" >&2; }
cannot() { say "cannot run here: $*"; exit 77; }

# --- installing -------------------------------------------------------------------------------

install_packages() {
  local missing=()
  command -v slurmctld >/dev/null || missing+=(slurmctld)
  command -v slurmd >/dev/null || missing+=(slurmd)
  command -v sbatch >/dev/null || missing+=(slurm-client)
  command -v munged >/dev/null || missing+=(munge)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || cannot "not root, and ${missing[*]} not installed"
  command -v apt-get >/dev/null || cannot "no apt-get to install ${missing[*]}"
  say "installing slurm-wlm and munge (${missing[*]} missing)"
  # Keep the packages' maintainer scripts from starting daemons (there is no init system to
  # stop them again): a policy-rc.d of our own, only if there is none.
  local policy=/usr/sbin/policy-rc.d ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && ours=1
  fi
  local ok=0
  export DEBIAN_FRONTEND=noninteractive
  if apt-get install -y --no-install-recommends slurm-wlm munge >"$dir/apt.log" 2>&1; then
    ok=1
  elif apt-get update >>"$dir/apt.log" 2>&1 &&
    apt-get install -y --no-install-recommends slurm-wlm munge >>"$dir/apt.log" 2>&1; then
    ok=1
  fi
  [ "$ours" -eq 1 ] && rm -f "$policy"
  if [ "$ok" -ne 1 ]; then
    tail -n 5 "$dir/apt.log" >&2 || true
    cannot "apt-get install slurm-wlm munge failed (see $dir/apt.log)"
  fi
}

# --- daemons ----------------------------------------------------------------------------------

# Whether the process in pid file $1 runs and is the program $2 (guards against reused PIDs).
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

munge_answers() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_answers; then
    say "munged already answers; using it (and leaving it running)"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || cannot "not root, and no munged answers"
  id munge >/dev/null 2>&1 || cannot "no munge user (is the munge package installed?)"
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key
    else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
  fi
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 700 /etc/munge
  chmod 400 /etc/munge/munge.key
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
  # munged daemonises; its PID is in the pid file we name.
  install -d -o munge -g munge -m 755 "$dir/munge"
  runuser -u munge -- /usr/sbin/munged --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" || {
    cat "$dir/munge/munged.log" >&2 2>/dev/null || true
    say "munged did not start"
    exit 1
  }
  for _ in $(seq 50); do munge_answers && break; sleep 0.1; done
  munge_answers || { say "munged does not answer"; exit 1; }
  cp "$dir/munge/munged.pid" "$pids/munged.pid"
}

write_conf() {
  local cpus mem host
  cpus=$(nproc)
  mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)
  mem=${mem:-1000}
  host=$(hostname -s)
  cat >"$conf" <<EOF
# Written by tests/slurm/start.sh: a single-node test cluster. Delete $dir to forget it.
ClusterName=aimarket-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MaxArraySize=100001
MaxJobCount=200000
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
SlurmctldPort=${AIMARKET_SLURMCTLD_PORT:-6817}
SlurmdPort=${AIMARKET_SLURMD_PORT:-6818}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

# Starts daemon $1 (a program name) in the foreground mode of its own, in the background, and
# records its PID.
start_daemon() {
  local name=$1
  shift
  if alive "$pids/$name.pid" "$name"; then
    say "$name already runs (PID $(cat "$pids/$name.pid"))"
    return 0
  fi
  "$name" "$@" </dev/null >>"$logs/$name.out" 2>&1 &
  echo $! >"$pids/$name.pid"
}

show_logs() {
  local f
  for f in "$logs"/*.log "$logs"/*.out "$dir/munge/munged.log"; do
    [ -s "$f" ] && { echo "--- $f (last lines)"; tail -n 20 "$f"; }
  done >&2
}

node_state() { SLURM_CONF=$conf sinfo -h -n localhost -o %T 2>/dev/null | head -n1; }

start() {
  mkdir -p "$dir"
  if [ -e "$conf" ] && ! head -n1 "$conf" | grep -q 'Written by tests/slurm/start.sh'; then
    [ "${FORCE:-0}" = 1 ] || { say "$conf was not written by this script; set FORCE=1 to overwrite it"; exit 1; }
  fi
  install_packages
  [ "$(id -u)" -eq 0 ] || cannot "not root (slurmd must run as root)"
  mkdir -p "$pids" "$logs"
  start_munge
  if ! alive "$pids/slurmctld.pid" slurmctld; then
    rm -rf "$dir/state" "$dir/spool"
  fi
  mkdir -p "$dir/state" "$dir/spool"
  write_conf
  start_daemon slurmctld -D -i -f "$conf"
  start_daemon slurmd -D -N localhost -f "$conf"
  local state=""
  for _ in $(seq 300); do
    state=$(node_state)
    case "$state" in
      idle*) break ;;
      down* | drain*) SLURM_CONF=$conf scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
    esac
    for d in slurmctld slurmd; do
      alive "$pids/$d.pid" "$d" || { say "$d exited"; show_logs; exit 1; }
    done
    sleep 0.1
  done
  case "$state" in
    idle*) ;;
    *) say "the node is not idle after 30 s (state: ${state:-unknown})"; show_logs; exit 1 ;;
  esac
  say "cluster up: $(nproc) CPUs; use it with SLURM_CONF=$conf"
  echo "SLURM_CONF=$conf"
}

stop() {
  local name pid
  for name in slurmd slurmctld munged; do
    [ -e "$pids/$name.pid" ] || continue
    if alive "$pids/$name.pid" "$name"; then
      pid=$(cat "$pids/$name.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
      if [ -d "/proc/$pid" ]; then
        say "$name (PID $pid) did not stop; killing it"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      say "stopped $name (PID $pid)"
    fi
    rm -f "$pids/$name.pid"
  done
}

status() {
  local name running=0
  for name in munged slurmctld slurmd; do
    if alive "$pids/$name.pid" "$name"; then
      echo "$name: running (PID $(cat "$pids/$name.pid"), started by this script)"
      running=1
    else
      echo "$name: not started by this script"
    fi
  done
  munge_answers && echo "munge: answers" || echo "munge: does not answer"
  if [ "$running" -eq 1 ] && [ -e "$conf" ]; then SLURM_CONF=$conf sinfo || true; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
