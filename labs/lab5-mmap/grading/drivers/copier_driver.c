/* Trusted driver of Part A, linked with the implementation under test.
 *
 *   copier [--spare-as BYTES] SRC DST KEY
 *
 * Stops at "gate before" (the grader reads /proc/PID/io), calls mm_copy(SRC, DST, KEY), stops at
 * "gate after" (the grader reads /proc/PID/io and /proc/PID/maps). Between the two stops the driver
 * itself writes only two short lines ("call mm_copy", "gate after") and reads nothing. Then reports "status 0" or "error copy <errno>".
 * --spare-as: RLIMIT_AS lowered first so that only BYTES more can be mapped (driver kit). */
#include "lab5_driver.h"

#include "mmlab.h"

int main(int argc, char **argv) {
    driver_setup();
    int i = 1;
    long spare = -1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (!strcmp(argv[i], "--spare-as") && i + 1 < argc) spare = atol(argv[++i]);
        else { fprintf(stderr, "copier: unknown option %s\n", argv[i]); return 2; }
    }
    if (argc - i != 3) { fprintf(stderr, "copier: SRC DST KEY\n"); return 2; }
    const unsigned char key = (unsigned char)atoi(argv[i + 2]);
    if (spare >= 0) ipcg_leave_spare_address_space((unsigned long)spare);
    gate("before");
    report_call("mm_copy"); /* the last line if mm_copy ends the process */
    int rc = mm_copy(argv[i], argv[i + 1], key);
    int err = errno;
    gate("after");
    if (rc == 0) dprintf(CONTROL_FD, "status 0\n");
    else dprintf(CONTROL_FD, "error copy %d\n", err);
    return 0;
}
