#!/usr/bin/env bash
# A class graded on a real Slurm cluster, with the very scripts docs/grading-a-class.md shows
# (docs/examples/slurm/): a one-node cluster from Debian 12's packages brought up here (munged
# with its own key and socket, slurmctld and slurmd on ports of their own, every file under one
# temporary folder), an array of 4 shards and its dependent merge, one task cancelled mid-run,
# `grader merge` refusing and naming the lost shard, the task resubmitted alone, and the merged
# gradebook byte-equal to one `grader batch` of the same folder and seed on this machine. Then the
# daemons are stopped by their pids and nothing is left: no process, no folder, no cgroup.
# Usage: slurm_array.sh SOURCE_DIR GRADER. Exit 77 (ctest SKIP_RETURN_CODE): no Slurm, or not root.
set -euo pipefail
root="$1"
grader="$2"
examples="$root/docs/examples/slurm"
export PATH="$PATH:/usr/sbin:/sbin"

# The documentation shows these very files: the first ```sh block after the line that starts with
# a file's name in backquotes is that file, byte for byte.
for file in submit.sh grade.sbatch merge.sbatch; do
  shown="$(awk -v name="\`$file\`" 'index($0, name) == 1 { found = 1; next }
    found && /^```sh$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' "$root/docs/grading-a-class.md")"
  [[ "$shown" == "$(cat "$examples/$file")" ]] ||
    { echo "FAIL: docs/grading-a-class.md does not show docs/examples/slurm/$file as it is" >&2; exit 1; }
done
echo "docs/grading-a-class.md shows docs/examples/slurm/{submit.sh,grade.sbatch,merge.sbatch} as they are"

skip() { echo "SKIP: $*"; exit 77; }
for tool in slurmctld slurmd sbatch squeue scontrol scancel sinfo munged mungekey; do
  command -v "$tool" >/dev/null ||
    skip "no $tool: install slurmctld slurmd slurm-client munge (.ci/install-deps.sh --tests does)"
done
[[ $(id -u) -eq 0 ]] || skip "the test's cluster runs as root (SlurmUser=root, slurmd starts jobs as their user)"

# A part of lab1's samples, so that the run stays under two minutes on 2 cores: each of the 4
# shards gets some, and shard 2 three, so that its task can be cancelled with a row written and
# rows still to come.
samples=(no_cloexec correct_alt dup2_no_close waits_last_only ignores_sigpipe closes_caller_fds no_waitpid
         one_read_reply)
seed=20240917

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
die() { log "FAIL: $*" >&2; exit 1; }

# Polls COMMAND... every 0.2 s until it succeeds; fails naming WHAT after LIMIT seconds.
wait_for() {
  local what="$1" limit="$2"
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${limit} s waiting for $what"
    sleep 0.2
  done
}

# --- the temporary folder and what is left afterwards ------------------------------------------
state="$(mktemp -d /tmp/ipcg-slurm.XXXXXX)"  # Slurm's and munge's files: no spaces in slurm.conf
chmod 0755 "$state"                          # munged refuses a socket folder others cannot search
course="$state/course ü"                     # the course's files, paths with a space as on any share
mkdir -p "$state"/{etc,munge,ctld,spool,run,log} "$course"
# The cgroup folders Slurm or the grader could leave: any at the top (proctrack/cgroup without a
# cgroup.conf made "/sys/fs/cgroup/freezer(null)" here), slurm* and ipcgrade-* one below.
cgroup_folders() {
  { find /sys/fs/cgroup -mindepth 1 -maxdepth 1 -type d
    find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d \( -name 'slurm*' -o -name 'ipcgrade-*' \); } | sort
}
cgroups_before="$(cgroup_folders)"
# The graders' work folders (ipcgrade-<pid>-XXXXXX): the cancelled task's grader has them removed
# by `grader cleanup --after` (SIGTERM), or the next grader on the node (after SIGKILL).
work_folders() { find "${TMPDIR:-/tmp}" -mindepth 1 -maxdepth 1 -type d -name 'ipcgrade-[0-9]*-??????' | sort; }
work_before="$(work_folders)"
munged_pid="" slurmctld_pid="" slurmd_pid=""

stop() {  # stop PID NAME: TERM, then KILL at a deadline, then reap
  local pid="$1" name="$2" deadline=$((SECONDS + 10))
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null && [[ "$(ps -o stat= -p "$pid")" != Z* ]] && ((SECONDS < deadline)); do sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && [[ "$(ps -o stat= -p "$pid")" != Z* ]] && { log "$name ignored TERM: KILL"; kill -KILL "$pid"; }
  wait "$pid" 2>/dev/null || true
  log "stopped $name (pid $pid)"
}

our_jobs() { squeue -h -o %i 2>/dev/null; }
# Processes still running in the cluster's folders, or slurmstepds (finished ones are zombies of
# pid 1 for about half a second: not counted).
leftovers() {
  find /proc/[0-9]*/cwd -maxdepth 0 -lname "$state*" 2>/dev/null
  ps -eo pid=,stat=,comm= | awk '$3 == "slurmstepd" && $2 !~ /^Z/'
}
nothing_left() { [[ -z "$(leftovers)" ]]; }

cleanup() {
  local status=$?
  set +e
  cd /  # out of the folder about to go
  if ((status != 0)) && [[ -d "$state/log" ]]; then
    log "what the cluster said:"
    [[ -n "$slurmctld_pid" ]] && scontrol -o show job 2>/dev/null | cut -c1-400
    tail -n 25 "$state"/log/*.log "$state"/log/*.out "$state"/course*/shards/logs/*.out 2>/dev/null
  fi
  if [[ -n "$slurmctld_pid" ]] && kill -0 "$slurmctld_pid" 2>/dev/null; then
    our_jobs | xargs -r scancel
    local deadline=$((SECONDS + 30))
    while [[ -n "$(our_jobs)" ]] && ((SECONDS < deadline)); do sleep 0.2; done
  fi
  stop "$slurmd_pid" slurmd
  stop "$slurmctld_pid" slurmctld
  stop "$munged_pid" munged
  local deadline=$((SECONDS + 10)) stopped=$SECONDS
  until nothing_left || ((SECONDS >= deadline)); do sleep 0.2; done
  log "no job process left $((SECONDS - stopped)) s after the daemons stopped"
  if ! nothing_left; then
    log "FAIL: processes left behind:"; leftovers
    status=1
  fi
  # A cgroup folder that was not there before: Slurm's (removed, being empty and ours), or one of a
  # grader that is gone (ipcgrade-<pid>-*).
  local cgroup
  while read -r cgroup; do
    [[ -z "$cgroup" ]] && continue
    local pid="${cgroup##*/ipcgrade-}"
    pid="${pid%%-*}"
    if [[ "$cgroup" != */ipcgrade-* ]] || ! kill -0 "$pid" 2>/dev/null; then
      log "FAIL: cgroup left behind: $cgroup"
      [[ "$cgroup" != */ipcgrade-* ]] && rmdir "$cgroup"
      status=1
    fi
  done < <(comm -13 <(echo "$cgroups_before") <(cgroup_folders))
  local folder
  while read -r folder; do
    [[ -z "$folder" ]] && continue
    local pid="${folder##*/ipcgrade-}"
    pid="${pid%%-*}"
    kill -0 "$pid" 2>/dev/null || { log "FAIL: work folder of a grader that is gone left behind: $folder"; status=1; }
  done < <(comm -13 <(echo "$work_before") <(work_folders))
  rm -rf "$state"
  [[ -e "$state" ]] && { log "FAIL: $state is still there"; status=1; }
  ((status == 0)) && log "nothing left behind: no process, no folder, no cgroup"
  exit "$status"
}
trap cleanup EXIT

# --- a one-node cluster ----------------------------------------------------------------------
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    # No socket bound to it (the local address column of /proc/net/tcp*, the port in hex).
    awk -v hex="$(printf '%04X' "$port")" 'FNR > 1 { split($2, addr, ":"); if (addr[2] == hex) found = 1 }
      END { exit found }' /proc/net/tcp /proc/net/tcp6 && echo "$port" && return
  done
}
host="$(hostname -s)"
node_line="$(slurmd -C | head -n 1)"  # NodeName=... CPUs=... as slurmd sees this machine
[[ "$node_line" == NodeName=* ]] || die "slurmd -C printed '$node_line'"
ctld_port="$(free_port)"
slurmd_port="$(free_port)"
[[ "$ctld_port" != "$slurmd_port" ]] || slurmd_port=$((ctld_port + 1))
cat >"$state/etc/slurm.conf" <<CONF
ClusterName=ipcgtest
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$state/munge/munge.socket
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
# linuxproc tracks a job's processes by parentage and creates no cgroup, so the grader's cells
# keep cgroups of their own. IPCG_SLURM_PROCTRACK=proctrack/cgroup measures the other choice.
ProctrackType=${IPCG_SLURM_PROCTRACK:-proctrack/linuxproc}
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state/log/jobcomp.txt
ReturnToService=2
$node_line State=UNKNOWN
PartitionName=grade Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
if [[ "${IPCG_SLURM_PROCTRACK:-}" == proctrack/cgroup ]]; then  # read beside slurm.conf
  printf 'CgroupPlugin=cgroup/v1\nCgroupMountpoint=/sys/fs/cgroup\n' >"$state/etc/cgroup.conf"
fi
export SLURM_CONF="$state/etc/slurm.conf"

started=$SECONDS
mungekey --create --keyfile="$state/munge/munge.key" >/dev/null
munged --foreground --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" \
  --pid-file="$state/run/munged.pid" --seed-file="$state/munge/munge.seed" --log-file="$state/log/munged.log" \
  >>"$state/log/munged.log" 2>&1 &
munged_pid=$!
wait_for "munged's socket" 10 test -S "$state/munge/munge.socket"
slurmctld -D -f "$SLURM_CONF" >"$state/log/slurmctld.out" 2>&1 &
slurmctld_pid=$!
slurmd -D -f "$SLURM_CONF" >"$state/log/slurmd.out" 2>&1 &
slurmd_pid=$!
node_idle() { [[ "$(sinfo -h -n "$host" -o %t 2>/dev/null)" == idle ]]; }
wait_for "node $host idle (logs in $state/log)" 30 node_idle
log "cluster up in $((SECONDS - started)) s: munged $munged_pid, slurmctld $slurmctld_pid, slurmd $slurmd_pid," \
  "node $host idle, ports $ctld_port/$slurmd_port, $(sinfo -h -o '%c CPUs')"

# --- the class, graded on one machine --------------------------------------------------------
class="$course/submissions"
mkdir -p "$class"
for sample in "${samples[@]}"; do cp -r "$root/tests/submissions/lab1/$sample" "$class/"; done
started=$SECONDS
"$grader" batch lab1 "$class" --jobs 2 --seed "$seed" --out "$course/whole" >"$course/whole.log" 2>&1 ||
  die "the unsharded batch failed: $(cat "$course/whole.log")"
log "unsharded: ${#samples[@]} lab1 submissions graded in $((SECONDS - started)) s into $course/whole"

# --- the array, one task cancelled mid-run ---------------------------------------------------
export LAB=lab1 SUBMISSIONS="$class" SHARDS="$course/shards" GRADES="$course/grades" SEED="$seed" SHARD_COUNT=4 \
  GRADER="$grader"
cd "$course"  # the jobs' working folder
job_state() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }
job_field() { scontrol -o show job "$1" 2>/dev/null | grep -o "$2=[^ ]*" | head -n 1 | cut -d= -f2-; }
finished() { [[ "$(job_state "$1")" =~ ^(COMPLETED|CANCELLED|FAILED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)$ ]]; }
in_state() { [[ "$(job_state "$1")" == "$2" ]]; }
has_rows() { [[ -s "$1/results.jsonl" ]]; }

submitted="$("$examples/submit.sh")"
log "submit.sh: $submitted"
array="$(sed -E 's/^array job ([0-9]+) .*/\1/' <<<"$submitted")"
merge="$(sed -E 's/.*merge job ([0-9]+)$/\1/' <<<"$submitted")"
started=$SECONDS
wait_for "task ${array}_2 running" 60 in_state "${array}_2" RUNNING
wait_for "task ${array}_2's first row" 60 has_rows "$SHARDS/2"
scancel "${array}_2"
log "cancelled task ${array}_2 with $(wc -l <"$SHARDS/2/results.jsonl") of its rows written"
for k in 1 2 3 4; do wait_for "task ${array}_$k to end" 90 finished "${array}_$k"; done
wait_for "merge job $merge to end" 30 finished "$merge"
for k in 1 2 3 4; do
  log "task ${array}_$k: JobId=$(job_field "${array}_$k" JobId) $(job_field "${array}_$k" JobState)" \
    "ExitCode=$(job_field "${array}_$k" ExitCode) on $(job_field "${array}_$k" BatchHost)"
done
log "merge job $merge: $(job_field "$merge" JobState), Reason=$(job_field "$merge" Reason)"
[[ "$(job_state "$merge")" == CANCELLED ]] || die "the merge job should have been cancelled, not $(job_state "$merge")"
[[ "$(job_state "${array}_2")" == CANCELLED ]] || die "task ${array}_2 is $(job_state "${array}_2"), not CANCELLED"
for k in 1 3 4; do [[ "$(job_state "${array}_$k")" == COMPLETED ]] || die "task ${array}_$k did not complete"; done
for out in "$SHARDS"/logs/"${array}"_*.out; do log "$(basename "$out"): $(head -n 1 "$out")"; done
log "the array ran in $((SECONDS - started)) s"
kept="$(wc -l <"$SHARDS/2/results.jsonl")"  # the rows task 2 wrote before it was cancelled
log "shard 2's folder after the cancel: $kept row(s), shard.json $(grep -o '"complete": *[a-z]*' "$SHARDS/2/shard.json")"

# --- merge refuses, naming the lost shard and its submissions --------------------------------
# Shard 2's submissions, known without the grader: every row of the whole class that shards 1, 3
# and 4 do not hold.
rows_of() { tail -n +2 "$1/gradebook.csv" | cut -d, -f1 | sort; }
mapfile -t lost < <(comm -23 <(rows_of "$course/whole") <(cat <(rows_of "$SHARDS/1") <(rows_of "$SHARDS/3") \
                                                             <(rows_of "$SHARDS/4") | sort))
((${#lost[@]} >= 2)) || die "shard 2 should hold at least two of the samples, holds: ${lost[*]}"
((kept < ${#lost[@]})) || die "task 2 was cancelled only after it had graded all ${#lost[@]} of its submissions"
refuse() {  # refuse EXPECTED FOLDER...: merge must exit 2 naming EXPECTED and every lost submission
  local expected="$1" status=0
  shift
  "$grader" merge "$@" --out "$GRADES" >"$course/merge.out" 2>"$course/merge.err" || status=$?
  sed 's/^/    /' "$course/merge.err"
  ((status == 2)) || die "grader merge exited $status, not 2"
  grep -Fq "$expected" "$course/merge.err" || die "grader merge did not say '$expected'"
  local name
  for name in "${lost[@]}"; do grep -Fq "$name" "$course/merge.err" || die "grader merge did not name $name"; done
  [[ ! -e "$GRADES/gradebook.csv" ]] || die "grader merge wrote a gradebook without shard 2"
}
log "grader merge of the 4 shard folders (shard 2 half-written):"
refuse "shard 2/4 ($SHARDS/2) did not finish" "$SHARDS"/{1,2,3,4}
log "grader merge of the 3 finished folders only:"
refuse "shard 2/4 is missing" "$SHARDS"/{1,3,4}
log "merge refused, naming shard 2/4 and its ${#lost[@]} submissions: ${lost[*]}"

# --- the lost task resubmitted alone; the merge job then runs --------------------------------
submitted="$("$examples/submit.sh" 2)"
log "submit.sh 2: $submitted"
array="$(sed -E 's/^array job ([0-9]+) .*/\1/' <<<"$submitted")"
merge="$(sed -E 's/.*merge job ([0-9]+)$/\1/' <<<"$submitted")"
wait_for "task ${array}_2 to end" 90 finished "${array}_2"
wait_for "merge job $merge to end" 30 finished "$merge"
log "task ${array}_2: $(job_state "${array}_2"); $(head -n 1 "$SHARDS/logs/${array}_2.out")"
log "merge job $merge: $(job_state "$merge"); $(tail -n 1 "$SHARDS/logs/merge-$merge.out")"
[[ "$(job_state "$merge")" == COMPLETED ]] || die "the merge job after the rerun: $(job_state "$merge")"
log "task ${array}_2: $(sed -n 2p "$SHARDS/logs/${array}_2.out")"
grep -q "SLURM_ARRAY_TASK_ID=2 (array 2-2), shard 2/4" "$SHARDS/logs/${array}_2.out" || die "the rerun did not grade shard 2/4"
grep -q "$((${#lost[@]} - kept)) to grade, $kept already graded" "$SHARDS/logs/${array}_2.out" ||
  die "the rerun did not resume after the $kept row(s) it had written"

cmp "$GRADES/gradebook.csv" "$course/whole/gradebook.csv" ||
  die "the merged gradebook differs from the unsharded one: $(diff "$GRADES/gradebook.csv" "$course/whole/gradebook.csv")"
log "merged gradebook.csv equals the unsharded one byte for byte ($(($(wc -l <"$GRADES/gradebook.csv") - 1)) rows," \
  "sha256 $(sha256sum <"$GRADES/gradebook.csv" | cut -c1-16))"
# The isolation line of the text reports (`isolation: full (root)` as root).
isolation() { grep -ho 'isolation: .*' "$@" | sort -u | paste -sd';'; }
in_tasks="$(isolation "$SHARDS"/[1-4]/reports/*.txt)"
on_host="$(isolation "$course/whole"/reports/*.txt)"
log "isolation of the cells in the Slurm tasks: $in_tasks; in the unsharded run on the host: $on_host"
[[ -n "$in_tasks" && "$in_tasks" == "$on_host" ]] || die "the Slurm tasks graded under other isolation than the host"
