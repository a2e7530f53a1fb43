/* Trusted driver of a producer, linked with the implementation under test.
 *
 *   producer [OPTIONS] NAME
 *
 * Reads jobs from stdin, one "PRIORITY LENGTH" line each (LENGTH 0: the queue's msgsize), opens
 * NAME with dispatch_open and submits each job, tagged "P<id>:S<seq>:". Logs each job it
 * submitted (dispatch_submit returned 0) on fd 4. Reports on fd 3: "call X" before each call,
 * "open <maxmsg> <msgsize>", "sent <seq>", "eagain <seq>", "error <step> <errno>", "done".
 *
 * Options:
 *   --create          DISPATCH_CREATE with --maxmsg N (default 10) and --msgsize N (default 128)
 *   --nonblock        DISPATCH_NONBLOCK: on EAGAIN, wait for room with poll() and send again
 *   --id P            the producer id in the tags (default 0)
 *   --seq N           the first sequence number (default 0)
 *   --msgqueue-limit B  lower RLIMIT_MSGQUEUE to B bytes before dispatch_open
 *   --oversize        after the jobs, submit one job of msgsize + 1 bytes: "oversize <ret> <errno>"
 *   --destroy         after everything, dispatch_close and dispatch_destroy(NAME)
 *   --close           after everything, dispatch_close */
#include "lab3_driver.h"

#include <poll.h>
#include <sys/resource.h>

#include "mqlab.h"

int main(int argc, char **argv) {
    driver_setup();
    int flags = 0, oversize = 0, destroy = 0, close_it = 0;
    long maxmsg = 10, msgsize = 128, limit = -1;
    unsigned id = 0;
    uint64_t seq = 0;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        const int v = i + 1 < argc;
        if (!strcmp(o, "--create")) flags |= DISPATCH_CREATE;
        else if (!strcmp(o, "--nonblock")) flags |= DISPATCH_NONBLOCK;
        else if (!strcmp(o, "--oversize")) oversize = 1;
        else if (!strcmp(o, "--destroy")) destroy = 1;
        else if (!strcmp(o, "--close")) close_it = 1;
        else if (!strcmp(o, "--maxmsg") && v) maxmsg = atol(argv[++i]);
        else if (!strcmp(o, "--msgsize") && v) msgsize = atol(argv[++i]);
        else if (!strcmp(o, "--id") && v) id = (unsigned)atol(argv[++i]);
        else if (!strcmp(o, "--seq") && v) seq = (uint64_t)atoll(argv[++i]);
        else if (!strcmp(o, "--msgqueue-limit") && v) limit = atol(argv[++i]);
        else { fprintf(stderr, "producer: unknown option %s\n", o); return 2; }
    }
    if (i >= argc) { fprintf(stderr, "producer: no queue name\n"); return 2; }
    const char *name = argv[i];
    if (limit >= 0) {
        struct rlimit r;
        getrlimit(RLIMIT_MSGQUEUE, &r);
        r.rlim_cur = (rlim_t)limit;
        if (setrlimit(RLIMIT_MSGQUEUE, &r) != 0) dprintf(CONTROL_FD, "limit msgqueue %d\n", errno);
    }
    struct dispatch d;
    memset(&d, 0, sizeof d);
    report_call("dispatch_open");
    if (dispatch_open(&d, name, maxmsg, msgsize, flags) != 0) {
        dprintf(CONTROL_FD, "error open %d\n", errno);
        return 1;
    }
    dprintf(CONTROL_FD, "open %ld %ld\n", d.maxmsg, d.msgsize);
    char *job = malloc((size_t)d.msgsize + 2);
    long prio, len;
    while (scanf("%ld %ld", &prio, &len) == 2) {
        if (len <= 0 || len > d.msgsize) len = d.msgsize;
        make_payload(job, (size_t)len, id, seq);
        for (;;) {
            struct ipcg_msg_record r = ipcg_msg_begin(IPCG_MSG_SEND, ROLE_PRODUCER);
            r.producer = id;
            r.seq = seq;
            r.priority = prio;
            report_call("dispatch_submit");
            int rc = dispatch_submit(&d, job, (size_t)len, (unsigned)prio);
            ipcg_msg_end(&r, job, (size_t)len);
            if (rc == 0) {
                log_record(&r);
                dprintf(CONTROL_FD, "sent %" PRIu64 "\n", seq);
                break;
            }
            if (errno == EAGAIN && (flags & DISPATCH_NONBLOCK)) {
                dprintf(CONTROL_FD, "eagain %" PRIu64 "\n", seq);
                struct pollfd p = {.fd = (int)d.q, .events = POLLOUT};
                while (poll(&p, 1, -1) < 0 && errno == EINTR) {
                }
                continue;
            }
            dprintf(CONTROL_FD, "error submit %d\n", errno);
            return 1;
        }
        seq++;
    }
    if (oversize) {
        make_payload(job, (size_t)d.msgsize + 1, id, seq);
        report_call("dispatch_submit");
        int rc = dispatch_submit(&d, job, (size_t)d.msgsize + 1, 1);
        dprintf(CONTROL_FD, "oversize %d %d\n", rc, rc == 0 ? 0 : errno);
    }
    if (close_it || destroy) {
        report_call("dispatch_close");
        if (dispatch_close(&d) != 0) dprintf(CONTROL_FD, "error close %d\n", errno);
    }
    if (destroy) {
        report_call("dispatch_destroy");
        if (dispatch_destroy(name) != 0) dprintf(CONTROL_FD, "error destroy %d\n", errno);
    }
    dprintf(CONTROL_FD, "done\n");
    return 0;
}
