/* Trusted driver for run_pipeline, linked with the implementation under test.
 *
 *   pipeline [OPTIONS] STAGE-ARGV... [ '|' STAGE-ARGV... ]...
 *
 * Runs the stages with in_fd 0 and out_fd 1 and reports on fd 3 (the grader's control pipe)
 * "call run_pipeline" before each call, then "status <wait status>" or "error <errno>". A child
 * that returns from run_pipeline instead of exec'ing (or _exit'ing) reports a second result
 * line: the grader counts them.
 *
 * Options, each making the caller's side of the contract observable:
 *   --gate-before   stop (SIGSTOP) before the first call: the grader reads the caller's fds
 *   --gate-after    stop after the last call returns: the grader looks for children that were
 *                   never waited for, and at the fds the caller holds now
 *   --twice         call run_pipeline twice with the same stages
 *   --fds           in_fd and out_fd are fds 4 and 5 (copies of 0 and 1); after the calls, the
 *                   rest of in_fd is copied to out_fd: what the stages did not read is still there
 *   --marker TEXT   leave TEXT in this process's fully buffered stdout before the call; it is
 *                   flushed once, at exit (a forked child that calls exit() flushes it again)
 *   --eintr         SIGUSR1 interrupts system calls (no SA_RESTART); the grader sends it
 *   --others TOOL   start two children of the caller's own first (driver_common.h)
 *   --spare-fds N   only N descriptors left free (a pipe() needs two)
 *   --spare-procs N only N more processes may be started
 *   --reap-strays   after each call, wait for any child the call left behind, so that stages a
 *                   library did not wait for are done with in_fd before the next call (and the
 *                   final copy) reads it: the outcome does not depend on scheduling, and
 *                   children_reaped, not this test, judges the missing wait */
#include "driver_common.h"

#include "pipeline.h"

static void copy_rest(int from, int to) {
    char buf[4096];
    ssize_t r;
    while ((r = read(from, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0 && write(to, buf, (size_t)r) != r) return;
}

int main(int argc, char **argv) {
    ipcg_control_setup();
    int first = 1, gate_before = 0, gate_after = 0, calls = 1, fds = 0, spare_fds = -1, spare_procs = -1;
    int reap_strays = 0;
    const char *marker = NULL, *others = NULL;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        const char *opt = argv[first];
        const int has_value = first + 1 < argc;
        if (strcmp(opt, "--gate-before") == 0) gate_before = 1;
        else if (strcmp(opt, "--gate-after") == 0) gate_after = 1;
        else if (strcmp(opt, "--twice") == 0) calls = 2;
        else if (strcmp(opt, "--fds") == 0) fds = 1;
        else if (strcmp(opt, "--reap-strays") == 0) reap_strays = 1;
        else if (strcmp(opt, "--eintr") == 0) ipcg_catch_sigusr1_without_restart();
        else if (strcmp(opt, "--marker") == 0 && has_value) marker = argv[++first];
        else if (strcmp(opt, "--others") == 0 && has_value) others = argv[++first];
        else if (strcmp(opt, "--spare-fds") == 0 && has_value) spare_fds = atoi(argv[++first]);
        else if (strcmp(opt, "--spare-procs") == 0 && has_value) spare_procs = atoi(argv[++first]);
        else { fprintf(stderr, "pipeline: unknown option %s\n", opt); return 2; }
    }

    char ***stages = calloc((size_t)argc, sizeof *stages);
    int n = 0;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "|") == 0) { argv[i] = NULL; continue; }
        if (i == first || argv[i - 1] == NULL) stages[n++] = &argv[i];
    }
    if (n == 0) { fprintf(stderr, "pipeline: no stages\n"); return 2; }

    int in_fd = 0, out_fd = 1;
    if (fds) {
        in_fd = dup(0);   /* 4: 3 is the control fd */
        out_fd = dup(1);  /* 5 */
    }
    if (marker) {
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
        printf("%s\n", marker);  /* not flushed: it sits in this process's stdio buffer */
    }
    if (others) start_other_children(others);
    if (gate_before) raise(SIGSTOP);
    if (spare_fds >= 0) ipcg_leave_spare_fds(spare_fds);
    if (spare_procs >= 0) ipcg_leave_spare_processes(spare_procs);

    for (int call = 0; call < calls; call++) {
        ipcg_report_call("run_pipeline");
        int status = run_pipeline((char *const *const *)stages, n, in_fd, out_fd);
        if (status == -1) dprintf(CONTROL_FD, "error %d\n", errno);
        else dprintf(CONTROL_FD, "status %d\n", status);
        if (reap_strays)
            while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
    }
    if (gate_after) raise(SIGSTOP);
    if (fds) copy_rest(in_fd, out_fd);
    return 0;
}
