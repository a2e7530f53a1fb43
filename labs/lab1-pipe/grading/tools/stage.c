/* Trusted pipeline stages and the gated responder used by lab1's tests. One binary, many modes:
 *
 *   stage [--gate | --gate-each] cat | upper | rev | head N | yes | status N | hold | exit N
 *   stage [--gate | --gate-each] respond [--pieces SEED] [--exit-after K] [--gate-exit]
 *
 * --gate: stop (SIGSTOP) first thing after exec, so the grader can read from /proc exactly which
 *   fds this exec'ed program inherited, then continue it with SIGCONT.
 * respond: the child side of the conversation (reply "<k> <REQUEST IN UPPER CASE>"), reading one
 *   byte at a time so that a request sent too early stays in the pipe.
 * --gate-each (respond only): stop after reading each request, until the grader has checked the
 *   parent is waiting for the reply.
 * hold: wait for a signal forever (a stage that only ends when killed). exit N: exit at once.
 *
 * How respond writes a reply is fixed, never left to the scheduler, so that one seed gives one
 * verdict: each piece is one write() of at most PIPE_BUF bytes (atomic: a reader sees all of it
 * or none), and the next piece is written only once the parent has read the previous one (the
 * pipe is empty). Without --pieces a reply of up to PIPE_BUF bytes is one piece; with it, every
 * reply of two or more bytes is cut into 2-4 pieces at places drawn from SEED, so a parent that
 * takes one read() for a whole reply always gets part of one.
 * --exit-after K: after reading request K, close stdin (so the parent's next request meets a
 *   pipe without reader: SIGPIPE/EPIPE), send reply K and exit 0.
 * --gate-exit: at EOF stop (SIGSTOP) before exiting, until the grader continues it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "tool_common.h"

/* Copies stdin to stdout through `transform` (NULL: unchanged). */
static int copy(void (*transform)(char *, size_t)) {
    char buf[65536];
    for (;;) {
        ssize_t r = read(0, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return 1;
        if (r == 0) return 0;
        if (transform) transform(buf, (size_t)r);
        if (write_all(1, buf, (size_t)r) != 0) return 1;
    }
}

static void to_upper(char *buf, size_t len) {
    for (size_t i = 0; i < len; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
}

static int reverse_lines(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) != -1) {
        int newline = len > 0 && line[len - 1] == '\n';
        size_t n = (size_t)len - (size_t)newline;
        for (size_t i = 0; i < n / 2; i++) {
            char t = line[i]; line[i] = line[n - 1 - i]; line[n - 1 - i] = t;
        }
        if (fwrite(line, 1, (size_t)len, stdout) != (size_t)len) return 1;
    }
    free(line);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int head(long lines) {
    char c;
    while (lines > 0) {
        ssize_t r = read(0, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        if (write_all(1, &c, 1) != 0) return 1;
        if (c == '\n') lines--;
    }
    return 0;  /* exits without reading the rest: the writer must get SIGPIPE */
}

static int yes(void) {
    static char buf[8192];
    for (size_t i = 0; i < sizeof buf; i += 2) memcpy(buf + i, "y\n", 2);
    for (;;) if (write_all(1, buf, sizeof buf) != 0) return 1;  /* EPIPE when SIGPIPE is ignored */
}

/* Reads one line byte by byte into *line; returns its length, or -1 at EOF before any byte. */
static ssize_t read_line(char **line, size_t *cap) {
    size_t len = 0;
    for (;;) {
        char c;
        ssize_t r = read(0, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return len == 0 ? -1 : (ssize_t)len;
        if (c == '\n') return (ssize_t)len;
        if (len + 1 >= *cap) *line = realloc(*line, *cap = *cap ? 2 * *cap : 256);
        (*line)[len++] = c;
    }
}

struct replier {
    uint64_t random;  /* the --pieces state; 0: no seeded cuts */
    int pieces;
};

/* Writes the reply piece by piece: at the seeded cuts and at least every PIPE_BUF bytes, each
 * piece one write() once the parent has read the one before. */
static int send_reply(struct replier *r, const char *reply, size_t len) {
    size_t cuts[3], n = r->pieces ? seeded_cuts(&r->random, len, cuts) : 0, from = 0;
    for (size_t i = 0; i <= n; i++) {
        size_t to = i < n ? cuts[i] : len;
        while (from < to) {
            size_t piece = to - from > PIPE_BUF ? PIPE_BUF : to - from;
            if (from > 0) wait_drained(1);
            if (write_all(1, reply + from, piece) != 0) return -1;
            from += piece;
        }
    }
    return 0;
}

static int respond(int gate, struct replier *r, unsigned long exit_after, int gate_exit) {
    char *line = NULL, *reply = NULL;
    size_t cap = 0, reply_cap = 0;
    ssize_t len;
    for (unsigned long k = 1; (len = read_line(&line, &cap)) >= 0; k++) {
        if (gate) raise(SIGSTOP);
        if (k == exit_after) close(0);
        if (reply_cap < (size_t)len + 32) reply = realloc(reply, reply_cap = (size_t)len + 32);
        int n = snprintf(reply, reply_cap, "%lu ", k);
        memcpy(reply + n, line, (size_t)len);
        to_upper(reply + n, (size_t)len);
        reply[n + len] = '\n';
        if (send_reply(r, reply, (size_t)n + (size_t)len + 1) != 0) return 1;
        if (k == exit_after) return 0;
    }
    if (gate_exit) raise(SIGSTOP);
    return 0;
}

int main(int argc, char **argv) {
    int arg = 1, gate = 0, gate_each = 0;
    if (arg < argc && strcmp(argv[arg], "--gate") == 0) { gate = 1; arg++; }
    else if (arg < argc && strcmp(argv[arg], "--gate-each") == 0) { gate_each = 1; arg++; }
    if (arg >= argc) { fprintf(stderr, "stage: no mode\n"); return 2; }
    const char *mode = argv[arg];
    const char *param = arg + 1 < argc ? argv[arg + 1] : "0";
    if (gate) raise(SIGSTOP);
    if (strcmp(mode, "respond") == 0) {
        struct replier r = {0, 0};
        unsigned long exit_after = 0;
        int gate_exit = 0;
        for (int i = arg + 1; i < argc; i++) {
            if (strcmp(argv[i], "--pieces") == 0 && i + 1 < argc) {
                r.random = strtoull(argv[++i], NULL, 10);
                r.pieces = 1;
            } else if (strcmp(argv[i], "--exit-after") == 0 && i + 1 < argc) {
                exit_after = strtoul(argv[++i], NULL, 10);
            } else if (strcmp(argv[i], "--gate-exit") == 0) {
                gate_exit = 1;
            } else {
                fprintf(stderr, "stage respond: unknown option %s\n", argv[i]);
                return 2;
            }
        }
        return respond(gate_each, &r, exit_after, gate_exit);
    }
    if (strcmp(mode, "cat") == 0) return copy(NULL);
    if (strcmp(mode, "upper") == 0) return copy(to_upper);
    if (strcmp(mode, "rev") == 0) return reverse_lines();
    if (strcmp(mode, "head") == 0) return head(strtol(param, NULL, 10));
    if (strcmp(mode, "yes") == 0) return yes();
    if (strcmp(mode, "status") == 0) { int rc = copy(NULL); return rc ? rc : atoi(param); }
    if (strcmp(mode, "hold") == 0) for (;;) pause();
    if (strcmp(mode, "exit") == 0) _exit(atoi(param));
    fprintf(stderr, "stage: unknown mode %s\n", mode);
    return 2;
}
