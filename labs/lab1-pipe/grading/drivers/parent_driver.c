/* Trusted driver for the parent role of the conversation, linked with the implementation
 * under test.
 *
 *   parent CHILD-ARGV...
 *
 * Reads every request line from stdin first, then converses with CHILD-ARGV through conv_*:
 * each reply goes to stdout as one line. Reports on fd 3: "reply <k> <length>" per exchange,
 * then "status <child wait status>", or "error <step> <errno>". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline.h"

enum { CONTROL_FD = 3, REPLY_CAP = 4 << 20 };

static char **read_requests(size_t *count) {
    char **lines = NULL;
    size_t n = 0, cap = 0, len = 0;
    char *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &len, stdin)) != -1) {
        if (got > 0 && line[got - 1] == '\n') line[got - 1] = '\0';
        if (n == cap) lines = realloc(lines, (cap = cap ? 2 * cap : 16) * sizeof *lines);
        lines[n++] = strdup(line);
    }
    free(line);
    *count = n;
    return lines;
}

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

int main(int argc, char **argv) {
    fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC);
    /* A child that exits early must show up as a failed exchange (EPIPE), not as this process
     * dying of SIGPIPE, which would read as a crash of whoever plays the parent. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) { fprintf(stderr, "parent: no child program\n"); return 2; }
    size_t count = 0;
    char **requests = read_requests(&count);

    struct conversation c;
    if (conv_start(&c, &argv[1]) != 0) { dprintf(CONTROL_FD, "error start %d\n", errno); return 1; }
    char *reply = malloc(REPLY_CAP);
    for (size_t k = 0; k < count; k++) {
        ssize_t len = conv_exchange(&c, requests[k], reply, REPLY_CAP);
        if (len < 0) { dprintf(CONTROL_FD, "error exchange %d\n", errno); return 1; }
        dprintf(CONTROL_FD, "reply %zu %zd\n", k + 1, len);
        write_all(1, reply, (size_t)len);
        write_all(1, "\n", 1);
    }
    int status = conv_finish(&c);
    if (status == -1) dprintf(CONTROL_FD, "error finish %d\n", errno);
    else dprintf(CONTROL_FD, "status %d\n", status);
    return 0;
}
