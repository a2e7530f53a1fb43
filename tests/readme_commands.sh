#!/bin/sh
# README.md's first two commands are the ones a newcomer runs: the first grades a sample with
# what grading needs only, the second is exactly what .ci/run runs. Usage: readme_commands.sh ROOT
set -eu
root="$1"
commands=$(grep '^\.ci/install-deps\.sh' "$root/README.md" | head -n 2)
first=$(printf '%s\n' "$commands" | sed -n 1p)
second=$(printf '%s\n' "$commands" | sed -n 2p)
case "$first" in
  *"--target grader"*"grader run lab1"*) ;;
  *) echo "README's first command should build only the grader and grade lab1: $first" >&2; exit 1 ;;
esac
case "$first" in
  *--tests*) echo "README's first command should not install the test dependencies: $first" >&2; exit 1 ;;
esac
if ! grep -Fxq -- "$second" "$root/.ci/run"; then
  echo ".ci/run does not run README's test command: $second" >&2
  exit 1
fi
echo "README's commands: grading first ($first), and .ci/run runs the test command"
