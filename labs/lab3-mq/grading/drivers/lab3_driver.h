/* What lab3's trusted drivers share: the control fd (3), the message log fd (4), payload tags,
 * and SIGUSR1 without SA_RESTART. Header-only: each driver is one C file linked with the
 * implementation under test (the student's or the reference's). */
#ifndef IPCGRADE_LAB3_DRIVER_H
#define IPCGRADE_LAB3_DRIVER_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msglog_record.h"  /* harness/msglog's, beside the drivers when they are built */

enum { CONTROL_FD = 3, LOG_FD = 4 };
enum { ROLE_PRODUCER = 1, ROLE_WORKER = 2, ROLE_SERVER = 3, ROLE_CLIENT_BASE = 100 };

/* Nothing the implementation starts inherits the grader's fds; queues are made for every uid. */
static void driver_setup(void) {
    fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC);
    fcntl(LOG_FD, F_SETFD, FD_CLOEXEC);
    umask(0);
}

/* "call <what>" before a call into the implementation: a report ending there means the
 * implementation ended this process. */
static void report_call(const char *what) { dprintf(CONTROL_FD, "call %s\n", what); }

static volatile sig_atomic_t interruptions;
static void count_interruption(int sig) { (void)sig; interruptions++; }

/* SIGUSR1 interrupts system calls (EINTR): the grader sends it while a call blocks. */
static void catch_sigusr1_without_restart(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_interruption;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}

/* A job's payload: "P<producer>:S<seq>:" then seeded filler up to len bytes. */
static size_t make_payload(char *out, size_t len, unsigned producer, uint64_t seq) {
    char head[64];
    int n = snprintf(head, sizeof head, "P%u:S%" PRIu64 ":", producer, seq);
    uint64_t x = ((uint64_t)producer << 32) ^ seq ^ 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        out[i] = (char)('a' + x % 26);
    }
    memcpy(out, head, (size_t)n < len ? (size_t)n : len);
    return len;
}

/* The tag at the start of a payload ("P3:S7:" or, upper-cased, the same); 0 if none. */
static int parse_tag(const char *p, size_t len, uint32_t *producer, uint64_t *seq) {
    char head[64];
    size_t n = len < sizeof head - 1 ? len : sizeof head - 1;
    memcpy(head, p, n);
    head[n] = '\0';
    unsigned prod;
    unsigned long long s;
    int used = 0;
    if (sscanf(head, "%*1[Pp]%u:%*1[Ss]%llu:%n", &prod, &s, &used) != 2 || used == 0) return 0;
    *producer = prod;
    *seq = s;
    return 1;
}

static void log_record(struct ipcg_msg_record *r) {
    if (ipcg_msg_write(LOG_FD, r) != 0) dprintf(CONTROL_FD, "log-lost %d\n", errno);
}

#endif
