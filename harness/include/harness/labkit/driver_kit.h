/* What every lab's trusted drivers share (C, header-only). The runner writes this file, and
 * harness/msglog's msglog_record.h, beside a lab's drivers when it builds them, so a driver
 * includes "driver_kit.h" and "msglog_record.h" as if they were its own.
 *
 *   int main(int argc, char **argv) {
 *       ipcg_control_setup();                 // fd 3: the grader's control pipe, kept from children
 *       ipcg_report_call("mq_dispatch");      // before each call into the student's code
 *       int rc = mq_dispatch(...);
 *       dprintf(IPCG_CONTROL_FD, "status %d\n", rc);
 *       ipcg_gate();                          // stop here: the grader reads /proc, then continues
 *   }
 *
 * The driver runs in the student's process: what it reports is evidence of the calls it made
 * (a report that ends at "call X" means the student's code ended the process), never a verdict. */
#ifndef IPCG_DRIVER_KIT_H
#define IPCG_DRIVER_KIT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define IPCG_CONTROL_FD 3

/* Keeps the control fd out of every program the implementation starts: a child holding it is
 * not the student's fault. */
static inline void ipcg_control_setup(void) { fcntl(IPCG_CONTROL_FD, F_SETFD, FD_CLOEXEC); }

/* "call <what>" before a call into the student's code. */
static inline void ipcg_report_call(const char *what) { dprintf(IPCG_CONTROL_FD, "call %s\n", what); }

/* Stops this process until the grader has looked at it through /proc and sent SIGCONT. */
static inline void ipcg_gate(void) { raise(SIGSTOP); }

static volatile sig_atomic_t ipcg_interruptions;
static inline void ipcg_count_interruption(int sig) { (void)sig; ipcg_interruptions++; }

/* SIGUSR1 gets a handler without SA_RESTART: a system call it interrupts fails with EINTR, which
 * the implementation must retry. The grader sends it while /proc shows the call blocked. */
static inline void ipcg_catch_sigusr1_without_restart(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ipcg_count_interruption;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
}

/* Lowers RLIMIT_NOFILE until only `spare` descriptors are free below it (a pipe() needs two, an
 * open() one). Reports "limit nofile ERRNO" if the limit cannot be set. */
static inline void ipcg_leave_spare_fds(int spare) {
    int fd = 0, free_fds = 0;
    for (; free_fds < spare && fd < 1 << 16; fd++)
        if (fcntl(fd, F_GETFD) == -1) free_fds++;
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = (rlim_t)fd;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) dprintf(IPCG_CONTROL_FD, "limit nofile %d\n", errno);
}

/* Lowers RLIMIT_NPROC so that `spare` more processes can be started. RLIMIT_NPROC counts every
 * task of the real uid, so the count is probed: the lowest limit under which fork() succeeds is
 * one above it. Reports "limit nproc unsupported" where the limit does not bind (privileged). */
static inline void ipcg_leave_spare_processes(int spare) {
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
        if (cur == 1) break; /* we are a task of this uid ourselves: the limit does not bind */
        lim.rlim_cur = cur - 1 + (rlim_t)spare;
        setrlimit(RLIMIT_NPROC, &lim);
        return;
    }
    setrlimit(RLIMIT_NPROC, &saved);
    dprintf(IPCG_CONTROL_FD, "limit nproc unsupported\n");
}

/* Lowers RLIMIT_AS so that only `spare` more bytes of address space can be mapped beyond what
 * the process maps now (VmSize of /proc/self/status): an mmap() larger than that fails with
 * ENOMEM. Reports "limit as ERRNO" if the limit cannot be set. */
static inline void ipcg_leave_spare_address_space(unsigned long spare) {
    unsigned long vm_kib = 0;
    char line[256];
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmSize: %lu kB", &vm_kib) == 1) break;
        fclose(f);
    }
    struct rlimit lim;
    getrlimit(RLIMIT_AS, &lim);
    lim.rlim_cur = (rlim_t)vm_kib * 1024 + spare;
    if (vm_kib == 0 || setrlimit(RLIMIT_AS, &lim) != 0) dprintf(IPCG_CONTROL_FD, "limit as %d\n", errno);
}

#endif
