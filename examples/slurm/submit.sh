#!/usr/bin/env bash
# Submits a sharded dibsim sweep to Slurm: one array job (a task per shard)
# plus a merge job that runs only if every shard succeeded.
#   submit.sh [--wait] SWEEP_FILE OUT_DIR SHARDS [CONCURRENT]
# CONCURRENT caps how many shards run at once (sbatch --array=...%K).
# --wait (or WAIT=1): block until the merge job is done (WAIT_TIMEOUT seconds,
# default 600); exit 0 only if OUT_DIR/merged exists.
# DIBSIM=/path/to/dibsim picks the binary (default: dibsim on the nodes' PATH).
# Slurm logs (dibsim-*.out) land in the current directory.
set -euo pipefail

usage() { echo "usage: $0 [--wait] SWEEP_FILE OUT_DIR SHARDS [CONCURRENT]" >&2; exit 2; }

wait_for_merge=${WAIT:-0}
args=()
for a in "$@"; do
  case $a in
    --wait) wait_for_merge=1 ;;
    -h|--help) usage ;;
    *) args+=("$a") ;;
  esac
done
set -- "${args[@]}"
[[ $# -eq 3 || $# -eq 4 ]] || usage
shards=$3 concurrent=${4:-}
[[ $shards =~ ^[1-9][0-9]*$ ]] || { echo "SHARDS must be a positive integer: $shards" >&2; exit 2; }
[[ -z $concurrent || $concurrent =~ ^[1-9][0-9]*$ ]] || { echo "CONCURRENT must be a positive integer: $concurrent" >&2; exit 2; }
[[ -f $1 ]] || { echo "sweep file not found: $1" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Jobs may start in another working directory: hand them absolute paths.
sweep=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mkdir -p "$2"
out=$(cd "$2" && pwd)
# --export splits on commas, so such paths would arrive truncated.
[[ $sweep$out != *,* ]] || { echo "paths must not contain commas: $sweep $out" >&2; exit 2; }

# --parsable prints "id" or "id;cluster".
array_id=$(sbatch --parsable --array="0-$((shards - 1))${concurrent:+%$concurrent}" \
  --export="ALL,SWEEP=$sweep,OUT=$out,SHARDS=$shards" "$here/sweep-array.sbatch")
array_id=${array_id%%;*}
echo "array job: $array_id"
# Without --kill-on-invalid-dep a failed shard would leave the merge job
# pending forever (DependencyNeverSatisfied) and --wait would only time out.
merge_id=$(sbatch --parsable --dependency="afterok:$array_id" --kill-on-invalid-dep=yes \
  --export="ALL,OUT=$out,SHARDS=$shards" "$here/merge.sbatch")
merge_id=${merge_id%%;*}
echo "merge job: $merge_id"

[[ $wait_for_merge == 1 ]] || exit 0

timeout=${WAIT_TIMEOUT:-600}
start=$SECONDS
# squeue lists only unfinished jobs; it errors once the job is purged, which
# also means "left the queue".
while [[ -n $(squeue -h -j "$merge_id" -o %i 2>/dev/null || true) ]]; do
  if ((SECONDS - start >= timeout)); then
    echo "timed out after ${timeout}s waiting for merge job $merge_id" >&2
    squeue -j "$array_id,$merge_id" >&2 || true
    exit 124
  fi
  sleep 2
done

# The job state too: OUT/merged may be left over from an earlier submission.
state=$(scontrol -o show job "$merge_id" 2>/dev/null | grep -o 'JobState=[^ ]*' || true)
if [[ -d $out/merged && ( -z $state || $state == JobState=COMPLETED ) ]]; then
  echo "merged: $out/merged ($((SECONDS - start))s)" >&2
  exit 0
fi
echo "merge job $merge_id ended (${state:-state unknown}) without a new $out/merged" >&2
# Final states explain why (e.g. a shard FAILED, merge CANCELLED as unrunnable).
for id in "$array_id" "$merge_id"; do
  scontrol -o show job "$id" 2>/dev/null | awk '{
    for (i = 1; i <= NF; i++)
      if ($i ~ /^(JobId|ArrayTaskId|JobState|Reason|ExitCode)=/) printf "%s ", $i
    print "" }' >&2 || true
done
shopt -s nullglob
for log in dibsim-"$array_id"_*.out dibsim-merge-"$merge_id".out; do
  [[ -f $log ]] || continue   # the merge job never ran if a shard failed
  echo "--- tail $log" >&2
  tail -n 20 "$log" >&2
done
exit 1
