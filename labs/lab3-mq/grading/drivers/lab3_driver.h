/* What lab3's trusted drivers add to the harness's driver kit: the message log fd (4), the roles'
 * numbers in the log, payload tags. Header-only: each driver is one C file linked with the
 * implementation under test (the student's or the reference's). */
#ifndef IPCGRADE_LAB3_DRIVER_H
#define IPCGRADE_LAB3_DRIVER_H

#include "driver_kit.h"      /* the harness's, written beside the drivers when they are built */
#include "msglog_record.h"  /* likewise: the trusted message log's record */

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

enum { CONTROL_FD = IPCG_CONTROL_FD, LOG_FD = 4 };
enum { ROLE_PRODUCER = 1, ROLE_WORKER = 2, ROLE_SERVER = 3, ROLE_CLIENT_BASE = 100 };

/* Nothing the implementation starts inherits the grader's fds; queues are made for every uid. */
static void driver_setup(void) {
    ipcg_control_setup();
    fcntl(LOG_FD, F_SETFD, FD_CLOEXEC);
    umask(0);
}

#define report_call ipcg_report_call
#define catch_sigusr1_without_restart ipcg_catch_sigusr1_without_restart

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
