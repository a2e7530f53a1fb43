/* What lab1's trusted drivers share beyond the harness's driver kit (control fd, EINTR signal,
 * rlimits: driver_kit.h): the caller's own children. Header-only (each driver is one C file
 * linked with the implementation under test). */
#ifndef IPCGRADE_LAB1_DRIVER_COMMON_H
#define IPCGRADE_LAB1_DRIVER_COMMON_H

#include <stdlib.h>

#include "driver_kit.h"

enum { CONTROL_FD = IPCG_CONTROL_FD };

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
    dprintf(IPCG_CONTROL_FD, "others %d %d\n", (int)exited, (int)running);
}

#endif
