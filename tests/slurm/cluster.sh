#!/usr/bin/env bash
# Single-node Slurm cluster on localhost for tests: munged + slurmctld + slurmd,
# all state under one folder so runs never touch /etc/slurm or each other.
#   cluster.sh start DIR   -> last stdout line: export SLURM_CONF=DIR/slurm.conf
#   cluster.sh stop DIR    -> idempotent; also fine after a failed start
# Needs root (SlurmUser=root, munged is started as the munge user).
# Packages are installed by CI, never here: apt-get install slurm-wlm slurmctld slurmd munge
set -euo pipefail

# Daemons live in sbin, which non-login shells may not have on PATH.
PATH=$PATH:/usr/sbin:/sbin

die() { echo "cluster.sh: $*" >&2; exit 1; }

[[ $# -eq 2 && ( $1 == start || $1 == stop ) ]] || {
  echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=$1
if [[ $cmd == stop && ! -d $2 ]]; then exit 0; fi   # nothing was ever started
mkdir -p "$2"
dir=$(cd "$2" && pwd)
conf=$dir/slurm.conf

# Pid from a pid file, only if that process is still NAME: a stale pid file
# must never make us signal an unrelated process that reused the pid.
live_pid() { # NAME PIDFILE
  local pid
  [[ -f $2 ]] || return 1
  pid=$(<"$2")
  [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]] || return 1
  echo "$pid"
}

stop_daemon() { # NAME PIDFILE
  local name=$1 pidfile=$2 pid i
  if pid=$(live_pid "$name" "$pidfile"); then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do          # up to 10 s for a clean shutdown
      [[ -d /proc/$pid ]] || break
      sleep 0.1
    done
    if [[ -d /proc/$pid ]]; then
      echo "cluster.sh: $name ($pid) ignored SIGTERM, killing" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

stop_cluster() {
  # Cancel leftover jobs first, so slurmd reaps their slurmstepd processes
  # instead of leaving them orphaned after it exits.
  # Only when our own controller runs: otherwise scancel would reach whatever
  # other slurmctld holds the port.
  if live_pid slurmctld "$dir/slurmctld.pid" >/dev/null; then
    export SLURM_CONF=$conf
    local i
    for ((i = 0; i < 50; i++)); do   # up to 5 s; squeue shows COMPLETING too
      [[ -z $(timeout 2 squeue -h -o %i 2>/dev/null) ]] && break
      ((i > 0)) || timeout 5 scancel --user=root >/dev/null 2>&1 || true
      sleep 0.1
    done
  fi
  stop_daemon slurmd "$dir/slurmd.pid"
  stop_daemon slurmctld "$dir/slurmctld.pid"
  stop_daemon munged "$dir/munge/munged.pid"
}

if [[ $cmd == stop ]]; then
  stop_cluster
  echo "cluster.sh: stopped (state kept in $dir)" >&2
  exit 0
fi

missing=()
for tool in munged slurmctld slurmd sinfo scontrol runuser; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "slurm is not installed: ${missing[*]}" >&2
  exit 3
fi
id munge >/dev/null 2>&1 || { echo "slurm is not installed: munge user" >&2; exit 3; }
[[ $(id -u) -eq 0 ]] || die "must run as root (SlurmUser=root)"

# Refuse rather than guess when a cluster is already up (here or in another
# DIR): clients would silently talk to that other slurmctld on the same port.
for d in munged:munge/munged.pid slurmctld:slurmctld.pid slurmd:slurmd.pid; do
  if live_pid "${d%%:*}" "$dir/${d#*:}" >/dev/null; then
    die "already running in $dir; run: $0 stop $dir"
  fi
done
for port in 6817 6818; do   # Slurm's default slurmctld/slurmd ports
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use (another Slurm running?)"
  fi
done

fail() {
  echo "cluster.sh: start failed: $*" >&2
  for log in "$dir/munge/munged.log" "$dir/slurmctld.log" "$dir/slurmd.log"; do
    [[ -f $log ]] && { echo "--- tail $log" >&2; tail -n 20 "$log" >&2; }
  done
  stop_cluster
  exit 1
}

# munged insists its folders belong to the munge user and are not writable by
# others; 0755 (not 0700) so non-root clients could still reach the socket.
mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
chown munge:munge "$dir/munge"
chmod 0755 "$dir/munge"
key=$dir/munge/munge.key
if [[ ! -s $key ]]; then
  # Own key per cluster: works whether or not the package made /etc/munge/munge.key.
  dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
  chown munge:munge "$key"
  chmod 0400 "$key"
fi
sock=$dir/munge/munge.sock

host=$(hostname -s)
cat >"$conf" <<CONF
ClusterName=dibsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
# No cgroups, no accounting daemon: plain process tracking only.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
# Trust the CPU count below even if it differs from the detected hardware.
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

runuser -u munge -- munged --socket="$sock" --key-file="$key" \
  --log-file="$dir/munge/munged.log" --pid-file="$dir/munge/munged.pid" \
  --seed-file="$dir/munge/munged.seed" || fail "munged did not start"
# -c: start from a clean job state, so every start is like the first one.
slurmctld -c -f "$conf" || fail "slurmctld did not start"
slurmd -f "$conf" || fail "slurmd did not start"

export SLURM_CONF=$conf
started=$SECONDS
while ((SECONDS - started < 30)); do
  [[ $(timeout 2 sinfo -h -o %t 2>/dev/null) == idle ]] && break
  # A daemon that died (bad config, busy port) never turns idle: fail early,
  # after a grace second or two in which the pid files may not be written yet.
  if ((SECONDS - started >= 2)); then
    live_pid slurmctld "$dir/slurmctld.pid" >/dev/null || fail "slurmctld exited"
    live_pid slurmd "$dir/slurmd.pid" >/dev/null || fail "slurmd exited"
  fi
  sleep 0.1
done
state=$(timeout 2 sinfo -h -o %t 2>&1 || true)
[[ $state == idle ]] || fail "node not idle after 30 s (sinfo: ${state:-nothing})"

echo "cluster.sh: up in $dir" >&2
echo "export SLURM_CONF=$conf"
