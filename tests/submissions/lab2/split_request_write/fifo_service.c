/* Sample: the client writes its request in two write() calls (the pid, then the text). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fifo_service.h"

static int open_retry(const char *path, int flags) {
    int fd;
    while ((fd = open(path, flags | O_CLOEXEC)) < 0 && errno == EINTR) {}
    return fd;
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

/* mkfifo with mode 0666 whatever the umask; an existing FIFO is used as it is. */
static int make_fifo(const char *path) {
    if (mkfifo(path, 0666) != 0) {
        struct stat st;
        if (errno != EEXIST || stat(path, &st) != 0 || !S_ISFIFO(st.st_mode)) {
            if (errno == EEXIST) errno = EEXIST;
            return -1;
        }
    }
    chmod(path, 0666);
    return 0;
}

/* Sends one reply; a client that is gone (no FIFO, or it closed it) is skipped. */
static void send_reply(const char *reply_prefix, long pid, const char *reply, size_t len) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%ld", reply_prefix, pid);
    int fd = open_retry(path, O_WRONLY);
    if (fd < 0) return;
    write_all(fd, reply, len);  /* EPIPE: the client died; SIGPIPE is ignored meanwhile */
    close(fd);
}

static void serve_line(const char *line, size_t len, const char *reply_prefix, fifo_handler handler, char *reply) {
    char *end;
    long pid = strtol(line, &end, 10);
    if (end == line || *end != ' ' || pid <= 0) return;  /* not a request: dropped */
    const char *text = end + 1;
    size_t n = handler(text, len - (size_t)(text - line), reply, FIFO_REPLY_MAX);
    if (n > FIFO_REPLY_MAX) n = FIFO_REPLY_MAX;
    reply[n] = '\n';
    send_reply(reply_prefix, pid, reply, n + 1);
}

int fifo_server_run(const char *request_fifo, const char *reply_prefix, fifo_handler handler, long max_requests) {
    if (make_fifo(request_fifo) != 0) return -1;
    /* The read end first, non-blocking (no writer yet), then a write end of our own: read()
     * then never sees EOF between clients. */
    int rd = open_retry(request_fifo, O_RDONLY | O_NONBLOCK);
    if (rd < 0) return -1;
    int wr = open_retry(request_fifo, O_WRONLY);
    if (wr < 0) { int e = errno; close(rd); errno = e; return -1; }
    fcntl(rd, F_SETFL, fcntl(rd, F_GETFL) & ~O_NONBLOCK);

    struct sigaction ignore, saved;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &saved);

    char *reply = malloc(FIFO_REPLY_MAX + 1);
    char buf[2 * FIFO_REQUEST_MAX];
    size_t have = 0;
    long handled = 0;
    int result = 0;
    while (max_requests == 0 || handled < max_requests) {
        if (have == sizeof buf) have = 0;  /* a line longer than any request: dropped */
        ssize_t r = read(rd, buf + have, sizeof buf - have);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { result = -1; break; }  /* cannot happen while we hold a write end */
        have += (size_t)r;
        char *start = buf, *nl;
        while ((max_requests == 0 || handled < max_requests) &&
               (nl = memchr(start, '\n', have - (size_t)(start - buf))) != NULL) {
            serve_line(start, (size_t)(nl - start), reply_prefix, handler, reply);
            handled++;
            start = nl + 1;
        }
        have -= (size_t)(start - buf);
        memmove(buf, start, have);
    }
    int e = errno;
    free(reply);
    close(wr);
    close(rd);
    unlink(request_fifo);
    sigaction(SIGPIPE, &saved, NULL);
    errno = e;
    return result;
}

ssize_t fifo_client_call(const char *request_fifo, const char *reply_prefix, const char *request, char *reply,
                         size_t cap) {
    char path[PATH_MAX], line[FIFO_REQUEST_MAX + 1];
    int len = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), request);
    if (len < 0 || (size_t)len > FIFO_REQUEST_MAX) { errno = EMSGSIZE; return -1; }
    snprintf(path, sizeof path, "%s%ld", reply_prefix, (long)getpid());
    if (mkfifo(path, 0666) != 0) {  /* a stale one from a crashed run: made again */
        if (errno != EEXIST || unlink(path) != 0 || mkfifo(path, 0666) != 0) return -1;
    }
    chmod(path, 0666);
    int e = 0;
    ssize_t got = -1;
    int w = open_retry(request_fifo, O_WRONLY | O_NONBLOCK);  /* ENOENT, ENXIO: no server */
    if (w < 0) { e = errno; goto out; }
    fcntl(w, F_SETFL, fcntl(w, F_GETFL) & ~O_NONBLOCK);
    ssize_t n;
    int head = snprintf(line, sizeof line, "%ld ", (long)getpid());  /* the pid first, then the text */
    while ((n = write(w, line, (size_t)head)) < 0 && errno == EINTR) {}
    if (n == head) {
        snprintf(line, sizeof line, "%s\n", request);
        ssize_t m;
        while ((m = write(w, line, strlen(line))) < 0 && errno == EINTR) {}
        n = m < 0 ? m : n + m;
    }
    e = errno;
    close(w);
    if (n != len) { if (n >= 0) e = EIO; goto out; }
    int r = open_retry(path, O_RDONLY);  /* the server opens it to reply */
    if (r < 0) { e = errno; goto out; }
    size_t stored = 0;
    for (;;) {
        char c[512];
        ssize_t k = read(r, c, sizeof c);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) { e = k == 0 ? EPIPE : errno; break; }
        char *nl = memchr(c, '\n', (size_t)k);
        size_t take = nl ? (size_t)(nl - c) : (size_t)k;
        size_t room = cap > 0 ? cap - 1 - stored : 0;
        memcpy(reply + stored, c, take < room ? take : room);
        stored += take < room ? take : room;
        if (nl) { got = (ssize_t)stored; break; }
    }
    if (cap > 0) reply[stored] = '\0';
    close(r);
out:
    unlink(path);
    errno = e;
    return got;
}
