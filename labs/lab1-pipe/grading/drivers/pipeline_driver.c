/* Trusted driver for run_pipeline, linked with the implementation under test.
 *
 *   pipeline [--gate-after] STAGE-ARGV... [ '|' STAGE-ARGV... ]...
 *
 * Runs the stages with in_fd 0 and out_fd 1 and reports on fd 3 (the grader's control pipe)
 * one line "status <wait status>" or "error <errno>". A child that returns from run_pipeline
 * instead of exec'ing (or _exit'ing) reports a second line: the grader counts them.
 * --gate-after: stop (SIGSTOP) after run_pipeline returns, so the grader can look for children
 * that were never waited for before this process exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline.h"

enum { CONTROL_FD = 3 };

int main(int argc, char **argv) {
    /* The control fd must not leak into the stages: a stage holding it is not the student's fault. */
    fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC);
    int first = 1, gate_after = 0;
    if (first < argc && strcmp(argv[first], "--gate-after") == 0) { gate_after = 1; first++; }

    char ***stages = calloc((size_t)argc, sizeof *stages);
    int n = 0;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "|") == 0) { argv[i] = NULL; continue; }
        if (i == first || argv[i - 1] == NULL) stages[n++] = &argv[i];
    }
    if (n == 0) { fprintf(stderr, "pipeline: no stages\n"); return 2; }

    int status = run_pipeline((char *const *const *)stages, n, 0, 1);
    if (status == -1) dprintf(CONTROL_FD, "error %d\n", errno);
    else dprintf(CONTROL_FD, "status %d\n", status);
    if (gate_after) raise(SIGSTOP);
    return 0;
}
