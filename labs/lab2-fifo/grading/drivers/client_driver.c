/* Trusted driver for the client role, linked with the implementation under test.
 *
 *   client [OPTIONS] REQUEST_FIFO REPLY_PREFIX
 *
 * Requests are drawn from the seed: request k of client ID is "C<ID>#<k> " and filler, of a
 * seeded length in [BYTES/2, BYTES] (lab2_driver.h). Each request sent and each reply received is
 * logged on the message log (--log FD; role ID, tagged C<ID>#k): a reply "<tag> <len> <digest>"
 * says which request the server answered and whether it got it whole.
 *
 * Modes (--mode):
 *   calls  COUNT calls of fifo_client_call (the implementation under test); reports on fd 3
 *          "call fifo_client_call", then "reply K LEN" or "error K ERRNO" per call
 * The other modes do not call the implementation: they are how the reference plays a client the
 * grader needs to behave exactly so, against a student's server.
 *   burst  makes its reply FIFO and opens it (O_RDONLY|O_NONBLOCK, held to the end), opens the
 *          request FIFO, stops (SIGSTOP) until the grader continues it, writes COUNT requests (one
 *          write() each), then reads the replies byte by byte until COUNT lines came
 *   die    sends one request asking for a reply larger than a pipe, opens its reply FIFO, waits
 *          until the server has filled it (the server is then blocked writing), and exits
 *          without reading: the server's next write meets a FIFO with no reader (EPIPE/SIGPIPE)
 *   hold   as die, but stops (SIGSTOP) with the server blocked writing, then reads the reply
 *   writer opens the request FIFO O_WRONLY as soon as it exists and a server has it open for
 *          reading (O_NONBLOCK: ENOENT and ENXIO mean "not yet", retried every millisecond), says
 *          "opened" on fd 3 and holds it until killed: with it, a server's read() never meets
 *          EOF for want of a writer, whether or not the server keeps a write end of its own
 *
 * Options: --id N, --count N, --bytes B, --seed S, --log FD, --eintr (SIGUSR1 without
 * SA_RESTART), --gate-each (calls: stop before each call). */
#define _GNU_SOURCE
#include <limits.h>
#include <sys/ioctl.h>
#include <time.h>

#include "lab2_driver.h"

#include "fifo_service.h"

static int log_fd = -1;
static unsigned id = 1;

static void log_event(struct ipcg_msg_record *r) {
    if (log_fd >= 0) ipcg_msg_write(log_fd, r);
}

/* A receive record for a reply line: "<tag> <len> <digest>" names the request the server read. */
static void log_reply(const char *reply, size_t len, uint64_t call_ns) {
    struct ipcg_msg_record r = ipcg_msg_begin(IPCG_MSG_RECEIVE, id);
    r.call_ns = call_ns;
    ipcg_msg_end(&r, reply, len);
    char text[128];
    size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
    memcpy(text, reply, n);
    text[n] = '\0';
    uint32_t producer;
    uint64_t seq;
    char *space = strchr(text, ' ');
    unsigned long seen_len;
    unsigned long long digest;
    if (space && parse_tag(text, (size_t)(space - text), &producer, &seq) == 0 &&
        sscanf(space + 1, "%lu %llx", &seen_len, &digest) == 2) {
        r.producer = producer;
        r.seq = seq;
        r.length = (uint32_t)seen_len;
        r.digest = digest;
    }
    log_event(&r);
}

static void log_send(const char *text, size_t len, unsigned k, uint64_t call_ns) {
    struct ipcg_msg_record r = ipcg_msg_begin(IPCG_MSG_SEND, id);
    r.call_ns = call_ns;
    r.producer = id;
    r.seq = k;
    ipcg_msg_end(&r, text, len);
    log_event(&r);
}

static int calls(const char *fifo, const char *prefix, unsigned count, size_t bytes, uint64_t *random, int gate_each) {
    static char request[FIFO_REQUEST_MAX + 1], reply[256];
    for (unsigned k = 0; k < count; k++) {
        size_t len = make_request(request, sizeof request, id, k, bytes, random);
        ipcg_report_call("fifo_client_call");
        if (gate_each) ipcg_gate();  /* the grader counts write() calls from here */
        uint64_t call_ns = ipcg_msg_now();
        ssize_t got = fifo_client_call(fifo, prefix, request, reply, sizeof reply);
        int err = errno;
        if (got < 0) { dprintf(IPCG_CONTROL_FD, "error %u %d\n", k, err); continue; }
        log_send(request, len, k, call_ns);
        log_reply(reply, strnlen(reply, sizeof reply), call_ns);
        dprintf(IPCG_CONTROL_FD, "reply %u %zd %s\n", k, got, reply);
    }
    return 0;
}

static int write_line(int fd, const char *text, size_t len) {
    static char line[FIFO_REQUEST_MAX + 64];
    int n = snprintf(line, sizeof line, "%ld %.*s\n", (long)getpid(), (int)len, text);
    ssize_t w;
    while ((w = write(fd, line, (size_t)n)) < 0 && errno == EINTR) {}
    return w == n ? 0 : -1;
}

static int open_request_fifo(const char *fifo) {
    int fd;
    while ((fd = open(fifo, O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR) {}
    if (fd < 0) dprintf(IPCG_CONTROL_FD, "error open %d\n", errno);
    return fd;
}

static int make_reply_fifo(const char *prefix, char *path, size_t cap) {
    snprintf(path, cap, "%s%ld", prefix, (long)getpid());
    unlink(path);
    if (mkfifo(path, 0666) != 0) { dprintf(IPCG_CONTROL_FD, "error mkfifo %d\n", errno); return -1; }
    return 0;
}

static void pause_briefly(void) {
    const struct timespec tick = {0, 100 * 1000};
    nanosleep(&tick, NULL);
}

static int burst(const char *fifo, const char *prefix, unsigned count, size_t bytes, uint64_t *random) {
    char path[PATH_MAX];
    static char request[FIFO_REQUEST_MAX + 1];
    if (make_reply_fifo(prefix, path, sizeof path) != 0) return 1;
    int in = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int out = open_request_fifo(fifo);
    if (in < 0 || out < 0) return 1;
    ipcg_gate();
    for (unsigned k = 0; k < count; k++) {
        size_t len = make_request(request, sizeof request, id, k, bytes, random);
        uint64_t call_ns = ipcg_msg_now();
        if (write_line(out, request, len) != 0) { dprintf(IPCG_CONTROL_FD, "error write %d\n", errno); return 1; }
        log_send(request, len, k, call_ns);
    }
    /* Replies, byte by byte, so that each reply's receive has its own call and return times. The
     * server opens and closes the FIFO per reply: between two, a read finds no writer (0) or
     * nothing yet (EAGAIN), and the next reply is waited for. */
    static char line[256];
    size_t have = 0;
    uint64_t first_ns = 0;
    for (unsigned got = 0; got < count;) {
        char c;
        uint64_t call_ns = ipcg_msg_now();
        ssize_t r = read(in, &c, 1);
        if (r <= 0) {
            if (r < 0 && errno != EAGAIN && errno != EINTR) return 1;
            pause_briefly();
            continue;
        }
        if (have == 0) first_ns = call_ns;
        if (c != '\n') { if (have < sizeof line) line[have++] = c; continue; }
        log_reply(line, have, first_ns);
        have = 0;
        got++;
    }
    dprintf(IPCG_CONTROL_FD, "done\n");
    close(out);
    close(in);
    unlink(path);
    return 0;
}

/* die / hold: one request for a reply larger than a pipe's buffer; wait until the server is
 * blocked writing it (the FIFO holds all but less than one PIPE_BUF of its capacity). */
static int big_reply(const char *fifo, const char *prefix, int hold) {
    char path[PATH_MAX], request[64];
    if (make_reply_fifo(prefix, path, sizeof path) != 0) return 1;
    int out = open_request_fifo(fifo);
    if (out < 0) return 1;
    int n = snprintf(request, sizeof request, "C%u#0 BIG", id);
    if (write_line(out, request, (size_t)n) != 0) return 1;
    int in;
    while ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR) {}
    if (in < 0) return 1;
    int capacity = fcntl(in, F_GETPIPE_SZ), queued = 0;
    while (ioctl(in, FIONREAD, &queued) == 0 && queued < capacity - PIPE_BUF) pause_briefly();
    if (!hold) {
        unlink(path);
        dprintf(IPCG_CONTROL_FD, "died %d\n", queued);
        _exit(0);
    }
    ipcg_gate();
    char buf[65536];
    ssize_t r;
    size_t total = 0;
    while ((r = read(in, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) total += r > 0 ? (size_t)r : 0;
    dprintf(IPCG_CONTROL_FD, "held %zu\n", total);
    close(out);
    close(in);
    unlink(path);
    return 0;
}

/* writer: a write end on the request FIFO, held for the whole test. The open is non-blocking so
 * that it lands on the FIFO the server reads (a server that replaced a stale FIFO made a new one):
 * it succeeds only once a reader has that FIFO open. */
static int writer(const char *fifo) {
    const struct timespec retry = {0, 1000 * 1000};
    int fd;
    while ((fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        if (errno != ENOENT && errno != ENXIO && errno != EINTR) {
            dprintf(IPCG_CONTROL_FD, "error open %d\n", errno);
            return 1;
        }
        nanosleep(&retry, NULL);
    }
    dprintf(IPCG_CONTROL_FD, "opened\n");
    for (;;) pause();
}

int main(int argc, char **argv) {
    ipcg_control_setup();
    const char *mode = "calls";
    unsigned count = 1;
    size_t bytes = 64;
    uint64_t seed = 1;
    int gate_each = 0, first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        const char *opt = argv[first];
        const int value = first + 1 < argc;
        if (strcmp(opt, "--eintr") == 0) ipcg_catch_sigusr1_without_restart();
        else if (strcmp(opt, "--gate-each") == 0) gate_each = 1;
        else if (strcmp(opt, "--mode") == 0 && value) mode = argv[++first];
        else if (strcmp(opt, "--id") == 0 && value) id = (unsigned)atoi(argv[++first]);
        else if (strcmp(opt, "--count") == 0 && value) count = (unsigned)atoi(argv[++first]);
        else if (strcmp(opt, "--bytes") == 0 && value) bytes = (size_t)atol(argv[++first]);
        else if (strcmp(opt, "--seed") == 0 && value) seed = strtoull(argv[++first], NULL, 10);
        else if (strcmp(opt, "--log") == 0 && value) log_fd = atoi(argv[++first]);
        else { fprintf(stderr, "client: unknown option %s\n", opt); return 2; }
    }
    if (argc - first != 2) { fprintf(stderr, "client: REQUEST_FIFO REPLY_PREFIX\n"); return 2; }
    if (log_fd >= 0) fcntl(log_fd, F_SETFD, FD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);  /* a server gone shows as EPIPE, reported */
    umask(0);
    uint64_t random = seed * 1000003u + id;
    const char *fifo = argv[first], *prefix = argv[first + 1];
    if (strcmp(mode, "calls") == 0) return calls(fifo, prefix, count, bytes, &random, gate_each);
    if (strcmp(mode, "burst") == 0) return burst(fifo, prefix, count, bytes, &random);
    if (strcmp(mode, "die") == 0) return big_reply(fifo, prefix, 0);
    if (strcmp(mode, "hold") == 0) return big_reply(fifo, prefix, 1);
    if (strcmp(mode, "writer") == 0) return writer(fifo);
    fprintf(stderr, "client: unknown mode %s\n", mode);
    return 2;
}
