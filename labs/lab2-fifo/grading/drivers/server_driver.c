/* Trusted driver for the server role, linked with the implementation under test.
 *
 *   server [--eintr] [--gate-each] [--log FD] REQUEST_FIFO REPLY_PREFIX MAX
 *
 * Runs fifo_server_run with the lab's handler (lab2_driver.h: a reply the client can check) under
 * umask 0, SIGPIPE at its default (the server must survive a dead client by itself). Reports on
 * fd 3: "call fifo_server_run", then "served N result R errno E" (N: requests the handler saw).
 *   --eintr      SIGUSR1 interrupts system calls (no SA_RESTART); the grader sends it
 *   --gate-each  stop (SIGSTOP) after each request is handed to the handler, before its reply
 *   --log FD     log every request received (message log record, role 0) on FD */
#include "lab2_driver.h"

#include "fifo_service.h"

static int gate_each, log_fd = -1;
static long served;

static size_t handler(const char *request, size_t len, char *reply, size_t cap) {
    served++;
    if (log_fd >= 0) {
        struct ipcg_msg_record r = ipcg_msg_begin(IPCG_MSG_RECEIVE, 0);
        uint32_t producer;
        uint64_t seq;
        if (parse_tag(request, len, &producer, &seq) == 0) { r.producer = producer; r.seq = seq; }
        ipcg_msg_end(&r, request, len);
        r.call_ns = r.return_ns;
        ipcg_msg_write(log_fd, &r);
    }
    if (gate_each) ipcg_gate();
    return reply_for(request, len, reply, cap);
}

int main(int argc, char **argv) {
    ipcg_control_setup();
    int first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--eintr") == 0) ipcg_catch_sigusr1_without_restart();
        else if (strcmp(argv[first], "--gate-each") == 0) gate_each = 1;
        else if (strcmp(argv[first], "--log") == 0 && first + 1 < argc) log_fd = atoi(argv[++first]);
        else { fprintf(stderr, "server: unknown option %s\n", argv[first]); return 2; }
    }
    if (argc - first != 3) { fprintf(stderr, "server: REQUEST_FIFO REPLY_PREFIX MAX\n"); return 2; }
    if (log_fd >= 0) fcntl(log_fd, F_SETFD, FD_CLOEXEC);
    signal(SIGPIPE, SIG_DFL);
    umask(0);
    ipcg_report_call("fifo_server_run");
    int r = fifo_server_run(argv[first], argv[first + 1], handler, atol(argv[first + 2]));
    dprintf(IPCG_CONTROL_FD, "served %ld result %d errno %d\n", served, r, r == 0 ? 0 : errno);
    return 0;
}
