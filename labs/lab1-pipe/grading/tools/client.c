/* Trusted parent role that meets the student's serve: it sends the request lines read from its
 * stdin to CHILD-ARGV in a way fixed by its mode and seed, never by the scheduler, and prints
 * every reply line it gets on stdout.
 *
 *   client pieces SEED CHILD-ARGV...   each request is cut into pieces at places drawn from SEED
 *                                      (request 1 always as its text, then its '\n' alone); a
 *                                      piece is written only once the child has read the one
 *                                      before; then one reply line is read
 *   client batch CHILD-ARGV...         every request in one write(), then EOF, then all replies
 *   client flood CHILD-ARGV...         one write() per request; replies are read only while the
 *                                      child is blocked with a request unread (it waits for room in
 *                                      the reply pipe), so its writes meet a full pipe (short writes,
 *                                      EAGAIN) at the same reply in every run. After each request
 *                                      the client stops (SIGSTOP) until the grader, watching the
 *                                      child in /proc, sees it blocked (or gone) and continues it.
 *
 * Reports on fd 3 (the grader's control pipe): "pieces K A+B+C" for a request written in pieces,
 * then "status S" (the child's wait status) or "error STEP ERRNO". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tool_common.h"

enum { CONTROL_FD = 3 };

struct lines {
    char **text;
    size_t *len;
    size_t n;
};

static struct lines read_requests(void) {
    struct lines r = {NULL, NULL, 0};
    size_t cap = 0, len = 0;
    char *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &len, stdin)) != -1) {
        if (got > 0 && line[got - 1] == '\n') got--;
        if (r.n == cap) {
            cap = cap ? 2 * cap : 16;
            r.text = realloc(r.text, cap * sizeof *r.text);
            r.len = realloc(r.len, cap * sizeof *r.len);
        }
        r.text[r.n] = malloc((size_t)got + 1);
        memcpy(r.text[r.n], line, (size_t)got);
        r.text[r.n][got] = '\n';  /* each request is kept with its '\n' */
        r.len[r.n++] = (size_t)got + 1;
    }
    free(line);
    return r;
}

/* Replies gathered so far, printed at the end. */
static char *replies;
static size_t replies_len, replies_cap;

static int read_available(int fd) {
    char buf[65536];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r <= 0) return (int)r;
    if (replies_len + (size_t)r > replies_cap) {
        while (replies_len + (size_t)r > replies_cap) replies_cap = replies_cap ? 2 * replies_cap : 65536;
        replies = realloc(replies, replies_cap);
    }
    memcpy(replies + replies_len, buf, (size_t)r);
    replies_len += (size_t)r;
    return 1;
}

/* Flood: after a request, stop until the grader sees the child blocked; if the request is still
 * unread then, the child waits for room to write a reply: take what is in the reply pipe. */
static void let_child_settle(int to_child, int from_child) {
    for (;;) {
        raise(SIGSTOP);
        struct pollfd p = {.fd = to_child, .events = 0};
        if ((poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) || bytes_queued(to_child) == 0) return;
        if (bytes_queued(from_child) == 0 || read_available(from_child) <= 0) return;
    }
}

/* Reads one reply line byte by byte (nothing past its '\n' is taken). 0 at EOF. */
static int read_reply_line(int fd) {
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return (int)r;
        if (replies_len + 1 > replies_cap) replies = realloc(replies, replies_cap = replies_cap ? 2 * replies_cap : 65536);
        replies[replies_len++] = c;
        if (c == '\n') return 1;
    }
}

/* Request k in seeded pieces; request 1 always as its text, then its '\n' alone. */
static int send_in_pieces(int to_child, const char *req, size_t len, size_t k, uint64_t *seed) {
    size_t cuts[3], n = 0;
    if (k == 0 && len >= 2) cuts[n++] = len - 1;
    else n = seeded_cuts(seed, len, cuts);
    char sizes[128];
    int used = 0;
    size_t from = 0;
    for (size_t i = 0; i <= n; i++) {
        size_t to = i < n ? cuts[i] : len;
        if (from > 0) wait_drained(to_child);
        if (write_all(to_child, req + from, to - from) != 0) return -1;
        used += snprintf(sizes + used, sizeof sizes - (size_t)used, "%s%zu", i ? "+" : "", to - from);
        from = to;
    }
    if (n > 0) dprintf(CONTROL_FD, "pieces %zu %s\n", k + 1, sizes);
    return 0;
}

int main(int argc, char **argv) {
    fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);  /* a child gone early shows as EPIPE, reported */
    if (argc < 3) { fprintf(stderr, "client: MODE [SEED] CHILD-ARGV...\n"); return 2; }
    const char *mode = argv[1];
    int first = 2;
    uint64_t seed = 0;
    if (strcmp(mode, "pieces") == 0) seed = strtoull(argv[first++], NULL, 10);
    else if (strcmp(mode, "batch") != 0 && strcmp(mode, "flood") != 0) { fprintf(stderr, "client: unknown mode %s\n", mode); return 2; }
    if (first >= argc) { fprintf(stderr, "client: no child program\n"); return 2; }
    struct lines req = read_requests();

    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) { dprintf(CONTROL_FD, "error pipe %d\n", errno); return 1; }
    pid_t pid = fork();
    if (pid == -1) { dprintf(CONTROL_FD, "error fork %d\n", errno); return 1; }
    if (pid == 0) {
        if (dup2(to[0], 0) == -1 || dup2(from[1], 1) == -1) _exit(127);
        execv(argv[first], &argv[first]);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);

    int failed = 0;
    if (strcmp(mode, "batch") == 0) {
        size_t total = 0;
        for (size_t k = 0; k < req.n; k++) total += req.len[k];
        char *all = malloc(total + 1), *at = all;
        for (size_t k = 0; k < req.n; k++) at = (char *)memcpy(at, req.text[k], req.len[k]) + req.len[k];
        failed = write_all(to[1], all, total);
        if (failed) dprintf(CONTROL_FD, "error write %d\n", errno);
    } else {
        for (size_t k = 0; k < req.n && !failed; k++) {
            if (strcmp(mode, "flood") == 0) {
                failed = write_all(to[1], req.text[k], req.len[k]);
                if (!failed) let_child_settle(to[1], from[0]);
            } else {
                failed = send_in_pieces(to[1], req.text[k], req.len[k], k, &seed);
                if (!failed && read_reply_line(from[0]) <= 0) break;  /* the child stopped answering */
            }
            if (failed) dprintf(CONTROL_FD, "error write %d\n", errno);
        }
    }
    close(to[1]);  /* EOF: the child must end */
    while (read_available(from[0]) > 0) {}
    close(from[0]);
    int status;
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {}
    write_all(1, replies, replies_len);
    dprintf(CONTROL_FD, "status %d\n", status);
    return 0;
}
