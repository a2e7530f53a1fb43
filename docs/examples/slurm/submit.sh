#!/bin/bash
# Grades a class on a Slurm cluster (docs/grading-a-class.md): an array of SHARD_COUNT tasks,
# grade.sbatch, each grading one shard under the same seed into its own folder, then merge.sbatch,
# which runs only once every task succeeded and is cancelled by Slurm as soon as one failed.
#   ./submit.sh          grade the whole class, then merge
#   ./submit.sh 2        regrade shard 2 only (its task failed or was cancelled), then merge again
#   ./submit.sh 2 4      regrade shards 2 and 4, then merge again
# The settings are the course's: edit the defaults below, or set them in the environment. Every
# path must be on storage the compute nodes share. sbatch passes this environment to the jobs
# (its default, --export=ALL).
set -euo pipefail
export LAB="${LAB:-lab1}"
export SUBMISSIONS="${SUBMISSIONS:-$HOME/course/lab1/submissions}"  # one subfolder per student
export SHARDS="${SHARDS:-$HOME/course/lab1/shards}"  # shard K in $SHARDS/K, the jobs' logs in $SHARDS/logs
export GRADES="${GRADES:-$HOME/course/lab1/grades}"  # the merged gradebook.csv, results.jsonl, reports/
export SEED="${SEED:-20240917}"                      # one seed for the whole class, reruns included
export SHARD_COUNT="${SHARD_COUNT:-4}"
export GRADER="${GRADER:-grader}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ $# -eq 0 ]]; then
  tasks="1-$SHARD_COUNT"
else
  tasks="$(IFS=,; echo "$*")"
fi
mkdir -p "$SHARDS/logs"
# --parsable prints "JOBID" or "JOBID;CLUSTER".
array="$(sbatch --parsable --array="$tasks" --output="$SHARDS/logs/%A_%a.out" "$here/grade.sbatch")"
array="${array%%;*}"
# afterok alone would leave the merge pending forever after a failed task; --kill-on-invalid-dep
# makes Slurm cancel it instead (reason DependencyNeverSatisfied).
merge="$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$SHARDS/logs/merge-%j.out" "$here/merge.sbatch")"
merge="${merge%%;*}"
echo "array job $array (tasks $tasks of $SHARD_COUNT), merge job $merge"
