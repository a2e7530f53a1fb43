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

/* Payloads carry the message log's tag ("P<producer>:S<seq>:", msglog_record.h). */
#define make_payload ipcg_msg_payload
#define parse_tag ipcg_msg_parse_tag

static void log_record(struct ipcg_msg_record *r) {
    if (ipcg_msg_write(LOG_FD, r) != 0) dprintf(CONTROL_FD, "log-lost %d\n", errno);
}

#endif
