/* Sample submission "serve_first_line_only" for the grader's own tests: the reference solution with
 * one mistake, marked MISTAKE below. expect.toml says which tests it must fail. */
#define _GNU_SOURCE
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { EXEC_FAILED = 127 };  /* the shell's convention for "command could not be run" */

/* ---------------------------------------------------------------------------------------------
 * Small helpers shared by all three parts. */

/* Closes fd if it is open (-1 means "no fd"), keeping errno: cleanup must not hide the error
 * that made us clean up. */
static void close_quietly(int fd) {
    if (fd < 0) return;
    int saved = errno;
    close(fd);
    errno = saved;
}

/* Waits until fd is ready for `events`. Used when a non-blocking fd says EAGAIN: poll sleeps
 * instead of spinning on write()/read(). */
static int wait_ready(int fd, short events) {
    struct pollfd p = {.fd = fd, .events = events};
    while (poll(&p, 1, -1) == -1)
        if (errno != EINTR) return -1;
    return 0;  /* POLLERR/POLLHUP included: the next read/write reports what happened */
}

/* Writes all len bytes: write() may stop short (a signal, a full non-blocking pipe). */
static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w >= 0) {
            buf += w;
            len -= (size_t)w;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_ready(fd, POLLOUT) == -1) return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

/* read() that retries on EINTR and waits (instead of failing) when fd is non-blocking. */
static ssize_t read_some(int fd, char *buf, size_t len) {
    for (;;) {
        ssize_t r = read(fd, buf, len);
        if (r >= 0) return r;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_ready(fd, POLLIN) == -1) return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
}

/* waitpid that retries when a signal handler interrupts it. */
static int wait_for(pid_t pid, int *status) {
    while (waitpid(pid, status, 0) == -1)
        if (errno != EINTR) return -1;
    return 0;
}

/* In a child: makes `from` the descriptor `to`, closing the original so the exec'ed program
 * does not inherit a second copy of the pipe end. */
static int move_fd(int from, int to) {
    if (from == to) {
        /* dup2(fd, fd) does nothing, not even clear close-on-exec: do that by hand. */
        int flags = fcntl(from, F_GETFD);
        return flags == -1 ? -1 : fcntl(from, F_SETFD, flags & ~FD_CLOEXEC);
    }
    if (dup2(from, to) == -1) return -1;
    return close(from);
}

/* In a child: input becomes stdin and output stdout. */
static int set_stdio(int input, int output) {
    /* One fd for both (the caller passed in_fd == out_fd): moving it to 0 would close it. */
    if (input == output) {
        if (dup2(input, STDIN_FILENO) == -1 || dup2(input, STDOUT_FILENO) == -1) return -1;
        return input > STDOUT_FILENO ? close(input) : 0;
    }
    /* dup2(input, 0) would silently replace an output that happens to be fd 0. */
    if (output == STDIN_FILENO && (output = dup(output)) == -1) return -1;
    if (move_fd(input, STDIN_FILENO) == -1) return -1;
    return move_fd(output, STDOUT_FILENO);
}

/* In a child: execs argv, or says why not on stderr and exits 127. Never returns: a child that
 * returned would go on running the parent's code (forking, waiting) as a second "parent". */
static _Noreturn void exec_or_die(char *const argv[]) {
    execvp(argv[0], argv);
    /* dprintf rather than stdio: the FILE buffers are copies of the parent's. */
    dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
    _exit(EXEC_FAILED);
}

/* ---------------------------------------------------------------------------------------------
 * Part A: run_pipeline. */

/* The child for one stage: wires input/output to stdin/stdout, closes every other descriptor
 * of the pipeline it inherited, and execs. `unused` lists those other descriptors. */
static _Noreturn void start_stage(char *const argv[], int input, int output,
                                  const int unused[], size_t n_unused) {
    for (size_t i = 0; i < n_unused; i++) {
        int fd = unused[i];
        /* Never close a standard fd here (set_stdio replaces 0 and 1; 2 is shared), nor an fd
         * this stage still needs (the caller may pass the same fd as in_fd and out_fd). */
        if (fd > STDERR_FILENO && fd != input && fd != output) close(fd);
    }
    if (set_stdio(input, output) == -1) {
        dprintf(STDERR_FILENO, "%s: cannot set up stdin/stdout: %s\n", argv[0], strerror(errno));
        _exit(EXEC_FAILED);
    }
    exec_or_die(argv);
}

/* After a failed pipe() or fork(): the pipeline cannot be completed, so the stages already
 * started are killed and reaped (a half pipeline could block forever on its input). */
static void abandon(const pid_t pids[], int started) {
    int saved = errno, status;
    for (int i = 0; i < started; i++) kill(pids[i], SIGKILL);
    for (int i = 0; i < started; i++) wait_for(pids[i], &status);
    errno = saved;
}

/* Waits for every stage, in order; returns the last one's wait status. Waiting for all of them,
 * not just the last, is what keeps zombies from piling up. */
static int wait_stages(const pid_t pids[], int n) {
    int status = 0, last_status = 0;
    bool last_ok = false;
    for (int i = 0; i < n; i++) {
        if (wait_for(pids[i], &status) == -1) continue;  /* keep reaping the others */
        if (i == n - 1) {
            last_ok = true;
            last_status = status;
        }
    }
    return last_ok ? last_status : -1;  /* errno: from the failed waitpid of the last stage */
}

/* Forks the stages one by one, wiring each to the next; returns how many were started (n, or
 * fewer if pipe() or fork() failed, with errno set). */
static int start_stages(char *const *const stages[], int n, int in_fd, int out_fd, pid_t pids[]) {
    /* `input` is what the next stage reads: in_fd for the first, then the read end of the pipe
     * the previous stage writes. The parent owns it only when it is a pipe end (!= in_fd). */
    int input = in_fd;
    int started = 0;
    for (; started < n; started++) {
        bool last = started == n - 1;
        /* The pipe is made just before forking its writer, so earlier stages never see it. */
        int p[2] = {-1, -1};
        if (!last && pipe(p) == -1) break;
        int output = last ? out_fd : p[1];

        pid_t pid = fork();
        if (pid == -1) {
            close_quietly(p[0]);
            close_quietly(p[1]);
            break;
        }
        if (pid == 0) {
            /* p[0] belongs to the next stage; in_fd/out_fd are not this stage's unless they are
             * its input/output (start_stage keeps those). */
            int unused[] = {p[0], in_fd, out_fd};
            start_stage(stages[started], input, output, unused, sizeof unused / sizeof *unused);
        }
        pids[started] = pid;
        /* The stage holds its own copies now. The parent closes the read end it handed over and
         * the write end at once: a write end left open here would keep the next reader from
         * ever seeing EOF. */
        if (input != in_fd) close(input);
        close_quietly(p[1]);
        input = p[0];  /* -1 after the last stage */
    }
    if (input != in_fd) close_quietly(input);  /* only after a failure: the pipe had no reader */
    return started;
}

int run_pipeline(char *const *const stages[], int n, int in_fd, int out_fd) {
    if (stages == NULL || n < 1) {
        errno = EINVAL;
        return -1;
    }
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    if (pids == NULL) return -1;
    int started = start_stages(stages, n, in_fd, out_fd, pids);
    int result = -1;
    if (started < n) abandon(pids, started);
    else result = wait_stages(pids, n);
    int saved = errno;
    free(pids);
    errno = saved;
    return result;
}

/* ---------------------------------------------------------------------------------------------
 * Part B: the parent side of the conversation. */

int conv_start(struct conversation *c, char *const argv[]) {
    if (c == NULL || argv == NULL || argv[0] == NULL) {
        errno = EINVAL;
        return -1;
    }
    /* Two pipes, one per direction: requests parent -> child, replies child -> parent. One pipe
     * used both ways would let each side read back its own writes. O_CLOEXEC: the parent's
     * ends must not leak into other programs this process starts later (a leaked write end of
     * the request pipe would keep the child from seeing EOF). */
    int req[2], rep[2];
    if (pipe2(req, O_CLOEXEC) == -1) return -1;
    if (pipe2(rep, O_CLOEXEC) == -1) {
        close_quietly(req[0]);
        close_quietly(req[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid == -1) {
        int fds[] = {req[0], req[1], rep[0], rep[1]};
        for (size_t i = 0; i < 4; i++) close_quietly(fds[i]);
        return -1;
    }
    if (pid == 0) {
        /* The parent's ends are close-on-exec already; closing them now also covers the case
         * where one of them is fd 0 or 1 and would otherwise be clobbered by set_stdio. */
        close(req[1]);
        close(rep[0]);
        if (set_stdio(req[0], rep[1]) == -1) _exit(EXEC_FAILED);
        exec_or_die(argv);
    }
    close(req[0]);  /* the child's ends: keeping them would hide the child's EOF and exit */
    close(rep[1]);
    c->pid = pid;
    c->to_child = req[1];
    c->from_child = rep[0];
    return 0;
}

/* Reads one line from fd into buf (at most cap-1 bytes kept, NUL-terminated, without '\n').
 * A longer line is truncated but read to its end, so the next reply starts in the right place.
 * Reads in chunks: the child sends nothing after the reply's '\n' until it gets the next
 * request, so a chunk cannot hold the start of another reply. If it does anyway, the child
 * broke the protocol: report EPROTO rather than drop those bytes silently. */
static ssize_t read_reply(int fd, char *buf, size_t cap) {
    char scratch[4096];  /* where bytes past cap-1 go while looking for the '\n' */
    size_t len = 0;
    for (;;) {
        bool room = len < cap - 1;
        char *dst = room ? buf + len : scratch;
        ssize_t r = read_some(fd, dst, room ? cap - 1 - len : sizeof scratch);
        if (r == -1) return -1;
        if (r == 0) {  /* the child closed its stdout (or died) before finishing the reply */
            errno = EPIPE;
            return -1;
        }
        char *newline = memchr(dst, '\n', (size_t)r);
        size_t kept = newline ? (size_t)(newline - dst) : (size_t)r;
        if (room) len += kept;
        if (newline == NULL) continue;
        if (newline != dst + r - 1) {
            errno = EPROTO;
            return -1;
        }
        buf[len] = '\0';
        return (ssize_t)len;
    }
}

ssize_t conv_exchange(struct conversation *c, const char *request, char *reply, size_t cap) {
    if (c == NULL || request == NULL || reply == NULL || cap == 0) {
        errno = EINVAL;
        return -1;
    }
    size_t len = strlen(request);
    if (memchr(request, '\n', len) != NULL) {  /* it would be two requests, and two replies */
        errno = EINVAL;
        return -1;
    }
    /* The request and its '\n' in one write (a short request then reaches the child in one
     * piece), and only then wait for the reply: strict alternation. (A child that died makes
     * this write raise SIGPIPE; the caller decides how to handle it.) */
    char *line = malloc(len + 1);
    if (line == NULL) return -1;
    memcpy(line, request, len);
    line[len] = '\n';
    int written = write_all(c->to_child, line, len + 1);
    int saved = errno;
    free(line);
    errno = saved;
    if (written == -1) return -1;
    return read_reply(c->from_child, reply, cap);
}

int conv_finish(struct conversation *c) {
    if (c == NULL) {
        errno = EINVAL;
        return -1;
    }
    /* Closing the request pipe is what tells the child "no more requests" (EOF). */
    close_quietly(c->to_child);
    close_quietly(c->from_child);
    c->to_child = c->from_child = -1;
    int status;
    if (wait_for(c->pid, &status) == -1) return -1;
    return status;
}

/* ---------------------------------------------------------------------------------------------
 * Part C: serve, the child side. */

/* A growable byte buffer for the reply being built. */
struct buffer {
    char *data;
    size_t len, cap;
};

static int append(struct buffer *b, const char *bytes, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        char *data = realloc(b->data, cap);
        if (data == NULL) return -1;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    return 0;
}

/* Appends bytes in upper case. */
static int append_upper(struct buffer *b, const char *bytes, size_t n) {
    size_t start = b->len;
    if (append(b, bytes, n) == -1) return -1;
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] >= 'a' && b->data[i] <= 'z') b->data[i] = (char)(b->data[i] - 'a' + 'A');
    return 0;
}

/* Starts reply k: "<k> ". */
static int begin_reply(struct buffer *b, unsigned long k) {
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%lu ", k);
    b->len = 0;
    return append(b, prefix, (size_t)n);
}

/* Ends the reply with its '\n' and sends it whole. */
static int send_reply(struct buffer *b, int out_fd) {
    if (append(b, "\n", 1) == -1) return -1;
    return write_all(out_fd, b->data, b->len);
}

/* The state of serve between chunks of input: a request may span chunks and a chunk may hold
 * several requests, so the reply is built as bytes arrive and sent when the '\n' is seen. */
struct server {
    int out_fd;
    unsigned long k;     /* number of the request being read */
    bool open_request;   /* reply holds the start of the answer to request k */
    struct buffer reply;
};

static int serve_chunk(struct server *s, const char *p, const char *end) {
    while (p < end) {
        if (!s->open_request) {
            if (begin_reply(&s->reply, s->k) == -1) return -1;
            s->open_request = true;
        }
        const char *newline = memchr(p, '\n', (size_t)(end - p));
        const char *stop = newline ? newline : end;
        if (append_upper(&s->reply, p, (size_t)(stop - p)) == -1) return -1;
        if (newline == NULL) return 0;  /* the rest of request k comes in the next chunk */
        if (send_reply(&s->reply, s->out_fd) == -1) return -1;
        s->open_request = false;
        s->k++;
        return 0;  /* MISTAKE: the rest of the read (more requests) is dropped */
    }
    return 0;
}

int serve(int in_fd, int out_fd) {
    struct server s = {.out_fd = out_fd, .k = 1};
    char chunk[16384];
    ssize_t r;
    int rc = 0;
    while ((r = read_some(in_fd, chunk, sizeof chunk)) > 0)
        if ((rc = serve_chunk(&s, chunk, chunk + r)) == -1) break;
    if (r == -1) rc = -1;
    /* A last request without its '\n' (the writer closed mid-line) is still answered. */
    else if (rc == 0 && s.open_request) rc = send_reply(&s.reply, out_fd);
    int saved = errno;
    free(s.reply.data);
    errno = saved;
    return rc;
}
