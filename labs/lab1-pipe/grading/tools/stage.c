/* Trusted pipeline stages and the gated responder used by lab1's tests. One binary, many modes:
 *
 *   stage [--gate | --gate-each] cat | upper | rev | head N | yes | status N | respond
 *
 * --gate: stop (SIGSTOP) first thing after exec, so the grader can read from /proc exactly which
 *   fds this exec'ed program inherited, then continue it with SIGCONT.
 * respond: the child side of the conversation (reply "<k> <REQUEST IN UPPER CASE>"), reading one
 *   byte at a time so that a request sent too early stays in the pipe.
 * --gate-each (respond only): stop after reading each request, until the grader has checked the
 *   parent is waiting for the reply. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

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

static int respond(int gate) {
    char *line = NULL, prefix[32];
    size_t cap = 0;
    ssize_t len;
    for (unsigned long k = 1; (len = read_line(&line, &cap)) >= 0; k++) {
        if (gate) raise(SIGSTOP);
        to_upper(line, (size_t)len);
        int n = snprintf(prefix, sizeof prefix, "%lu ", k);
        if (write_all(1, prefix, (size_t)n) || write_all(1, line, (size_t)len) || write_all(1, "\n", 1))
            return 1;
    }
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
    if (strcmp(mode, "respond") == 0) return respond(gate_each);
    if (strcmp(mode, "cat") == 0) return copy(NULL);
    if (strcmp(mode, "upper") == 0) return copy(to_upper);
    if (strcmp(mode, "rev") == 0) return reverse_lines();
    if (strcmp(mode, "head") == 0) return head(strtol(param, NULL, 10));
    if (strcmp(mode, "yes") == 0) return yes();
    if (strcmp(mode, "status") == 0) { int rc = copy(NULL); return rc ? rc : atoi(param); }
    fprintf(stderr, "stage: unknown mode %s\n", mode);
    return 2;
}
