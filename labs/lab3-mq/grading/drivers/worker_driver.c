/* Trusted driver of a worker, linked with the implementation under test.
 *
 *   worker [OPTIONS] NAME
 *
 * Opens NAME (dispatch_open without DISPATCH_CREATE) and takes jobs until it has --count N of
 * them or takes a stop job ("STOP", which the grader's tool sends at priority 0 once every
 * producer is done). Logs each job it took on fd 4 (the tag read from its payload). Reports on
 * fd 3: "call X", "open <maxmsg> <msgsize>", "took <len> <prio>", "guard <bytes>",
 * "error <step> <errno>", "done <jobs>".
 *
 * Options: --count N, --cap N (the buffer given to dispatch_take, followed by a guard region;
 * default msgsize), --nonblock (DISPATCH_NONBLOCK; the driver then waits with poll() itself),
 * --eintr (SIGUSR1 without SA_RESTART), --id W. */
#include "lab3_driver.h"

#include <poll.h>

#include "mqlab.h"

enum { GUARD = 64, GUARD_BYTE = 0xA5 };

int main(int argc, char **argv) {
    driver_setup();
    int flags = 0, i = 1;
    long count = -1, cap = -1;
    unsigned id = 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        const int v = i + 1 < argc;
        if (!strcmp(o, "--nonblock")) flags |= DISPATCH_NONBLOCK;
        else if (!strcmp(o, "--eintr")) catch_sigusr1_without_restart();
        else if (!strcmp(o, "--count") && v) count = atol(argv[++i]);
        else if (!strcmp(o, "--cap") && v) cap = atol(argv[++i]);
        else if (!strcmp(o, "--id") && v) id = (unsigned)atol(argv[++i]);
        else { fprintf(stderr, "worker: unknown option %s\n", o); return 2; }
    }
    if (i >= argc) { fprintf(stderr, "worker: no queue name\n"); return 2; }
    struct dispatch d;
    memset(&d, 0, sizeof d);
    report_call("dispatch_open");
    if (dispatch_open(&d, argv[i], 0, 0, flags) != 0) {
        dprintf(CONTROL_FD, "error open %d\n", errno);
        return 1;
    }
    dprintf(CONTROL_FD, "open %ld %ld\n", d.maxmsg, d.msgsize);
    if (cap <= 0) cap = d.msgsize;
    unsigned char *buf = malloc((size_t)cap + GUARD);
    long jobs = 0;
    while (count < 0 || jobs < count) {
        memset(buf, GUARD_BYTE, (size_t)cap + GUARD);
        unsigned prio = 0;
        struct ipcg_msg_record r = ipcg_msg_begin(IPCG_MSG_RECEIVE, ROLE_WORKER + id * 0);
        report_call("dispatch_take");
        ssize_t n = dispatch_take(&d, buf, (size_t)cap, &prio);
        if (n < 0 && errno == EAGAIN && (flags & DISPATCH_NONBLOCK)) {
            struct pollfd p = {.fd = (int)d.q, .events = POLLIN};
            while (poll(&p, 1, -1) < 0 && errno == EINTR) {
            }
            continue;
        }
        if (n < 0) {
            dprintf(CONTROL_FD, "error take %d\n", errno);
            return 1;
        }
        ipcg_msg_end(&r, buf, (size_t)n);
        int damaged = 0;
        for (int g = 0; g < GUARD; g++) damaged += buf[cap + g] != GUARD_BYTE;
        if (damaged) dprintf(CONTROL_FD, "guard %d\n", damaged);
        if (n == 4 && memcmp(buf, "STOP", 4) == 0) break;
        r.priority = prio;
        if (!parse_tag((const char *)buf, (size_t)n, &r.producer, &r.seq)) r.producer = IPCG_MSG_NO_PRODUCER;
        log_record(&r);
        dprintf(CONTROL_FD, "took %zd %u\n", n, prio);
        jobs++;
    }
    report_call("dispatch_close");
    dispatch_close(&d);
    dprintf(CONTROL_FD, "done %ld\n", jobs);
    return 0;
}
