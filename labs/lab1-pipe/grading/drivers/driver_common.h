/* What lab1's trusted drivers share: the control fd, the caller's own children, signals for
 * EINTR, and resource limits lowered so that a chosen pipe() or fork() fails. Header-only (each
 * driver is one C file linked with the implementation under test). */
#ifndef IPCGRADE_LAB1_DRIVER_COMMON_H
#define IPCGRADE_LAB1_DRIVER_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CONTROL_FD = 3 };

/* Keeps the control fd out of every program the implementation starts: a stage holding it is
 * not the student's fault. */
static void control_setup(void) { fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC); }

/* "call <what>" before a call into the student's code: a report that ends there means the
 * student's code ended this process (exit() in the library, or a crash). */
static void report_call(const char *what) { dprintf(CONTROL_FD, "call %s\n", what); }

static volatile sig_atomic_t interruptions;
static void count_interruption(int sig) { (void)sig; interruptions++; }

/* SIGUSR1 gets a handler without SA_RESTART: a system call it interrupts fails with EINTR,
 * which the implementation must retry. The grader sends it while the call waits. */
static void catch_sigusr1_without_restart(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_interruption;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
}

/* Two children of the caller's own, started before the call: TOOL exit 42 (exited, not yet
 * waited for: its status belongs to the caller) and TOOL hold (still running). The grader
 * checks after the call that both are still the caller's: the first a zombie, the second alive. */
static void start_other_children(const char *tool) {
    pid_t exited = fork();
    if (exited == 0) { execl(tool, tool, "exit", "42", (char *)NULL); _exit(126); }
    siginfo_t info;
    if (exited > 0) waitid(P_PID, (id_t)exited, &info, WEXITED | WNOWAIT);  /* exited, kept */
    pid_t running = fork();
    if (running == 0) { execl(tool, tool, "hold", (char *)NULL); _exit(126); }
    dprintf(CONTROL_FD, "others %d %d\n", (int)exited, (int)running);
}

/* Lowers RLIMIT_NOFILE until only `spare` descriptors are free below it: a pipe() needs two. */
static void leave_spare_fds(int spare) {
    int fd = 0, free_fds = 0;
    for (; free_fds < spare && fd < 1 << 16; fd++)
        if (fcntl(fd, F_GETFD) == -1) free_fds++;
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = (rlim_t)fd;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) dprintf(CONTROL_FD, "limit nofile %d\n", errno);
}

/* Lowers RLIMIT_NPROC so that `spare` more processes can be started. RLIMIT_NPROC counts every
 * task of the real uid, so the count is probed: the lowest limit under which fork() succeeds is
 * one above it. Reports "limit nproc unsupported" where the limit does not bind (privileged). */
static void leave_spare_processes(int spare) {
    struct rlimit lim, saved;
    getrlimit(RLIMIT_NPROC, &saved);
    lim = saved;
    for (rlim_t cur = 1; cur < 4096; cur++) {
        lim.rlim_cur = cur;
        if (setrlimit(RLIMIT_NPROC, &lim) != 0) break;
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid == -1) continue;
        waitpid(pid, NULL, 0);
        if (cur == 1) break;  /* we are a task of this uid ourselves: the limit does not bind */
        lim.rlim_cur = cur - 1 + (rlim_t)spare;
        setrlimit(RLIMIT_NPROC, &lim);
        return;
    }
    setrlimit(RLIMIT_NPROC, &saved);
    dprintf(CONTROL_FD, "limit nproc unsupported\n");
}

#endif
