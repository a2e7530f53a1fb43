/* Sample submission "correct_alt" for the grader's own tests: a second correct solution, built
 * differently from the reference so that the tests do not just recognise one shape of code.
 *   - run_pipeline makes all n-1 pipes up front; every child closes every pipe fd after its
 *     dup2s, and the parent closes them all once every stage is forked.
 *   - conv_exchange reads the reply one byte at a time (nothing is ever read past the '\n').
 *   - serve reads one byte at a time too and sends each reply as three writes.
 * No stdio at all. */
#define _GNU_SOURCE
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *a, const char *b) {
    /* best effort: a failed diagnostic must not change the result */
    if (write(2, a, strlen(a)) < 0 || write(2, b, strlen(b)) < 0 || write(2, "\n", 1) < 0) return;
}

static int send_all(int fd, const void *data, size_t len) {
    const char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

/* Reads one byte: 1, 0 at EOF, -1 on error. Waits on a non-blocking fd. */
static int get_byte(int fd, char *c) {
    for (;;) {
        ssize_t r = read(fd, c, 1);
        if (r >= 0) return (int)r;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return -1;
    }
}

static void close_pipes(int (*pipes)[2], int count) {
    for (int i = 0; i < count; i++) {
        if (pipes[i][0] >= 0) close(pipes[i][0]);
        if (pipes[i][1] >= 0) close(pipes[i][1]);
    }
}

/* ---- Part A ---- */

int run_pipeline(char *const *const stages[], int n, int in_fd, int out_fd) {
    if (n <= 0 || stages == NULL) {
        errno = EINVAL;
        return -1;
    }
    int npipes = n - 1;
    int (*pipes)[2] = malloc(sizeof(int[2]) * (size_t)(npipes > 0 ? npipes : 1));
    pid_t *kids = malloc(sizeof(pid_t) * (size_t)n);
    if (pipes == NULL || kids == NULL) {
        free(pipes);
        free(kids);
        errno = ENOMEM;
        return -1;
    }
    for (int i = 0; i < npipes; i++) pipes[i][0] = pipes[i][1] = -1;

    int err = 0, forked = 0;
    for (int i = 0; i < npipes && !err; i++)
        if (pipe(pipes[i]) < 0) err = errno;

    for (int i = 0; i < n && !err; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {
            int rd = i == 0 ? in_fd : pipes[i - 1][0];
            int wr = i == n - 1 ? out_fd : pipes[i][1];
            /* wr must survive the first dup2 if it happens to be 0 */
            if (wr == 0) wr = dup(wr);
            if (rd != 0) dup2(rd, 0);
            if (wr != 1) {
                dup2(wr, 1);
                if (wr > 2) close(wr);
            }
            /* 0 and 1 are copies now: every pipe fd can go, and the caller's fds too */
            close_pipes(pipes, npipes);
            if (in_fd > 2) close(in_fd);
            if (out_fd > 2) close(out_fd);
            execvp(stages[i][0], stages[i]);
            say("cannot execute ", stages[i][0]);
            _exit(127);
        }
        kids[forked++] = pid;
    }
    close_pipes(pipes, npipes);
    free(pipes);

    if (err) {
        for (int i = 0; i < forked; i++) kill(kids[i], SIGTERM);
    }
    /* reap everyone, last one first; remember the last stage's status */
    int result = -1, last_err = 0;
    for (int i = forked - 1; i >= 0; i--) {
        int st;
        pid_t r;
        do r = waitpid(kids[i], &st, 0);
        while (r < 0 && errno == EINTR);
        if (i == n - 1) {
            if (r < 0) last_err = errno;
            else result = st;
        }
    }
    free(kids);
    if (err) {
        errno = err;
        return -1;
    }
    if (result == -1) errno = last_err;
    return result;
}

/* ---- Part B ---- */

int conv_start(struct conversation *c, char *const argv[]) {
    int down[2], up[2];  /* down: parent -> child, up: child -> parent */
    if (pipe2(down, O_CLOEXEC) < 0) return -1;
    if (pipe2(up, O_CLOEXEC) < 0) {
        int e = errno;
        close(down[0]);
        close(down[1]);
        errno = e;
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(down[0]);
        close(down[1]);
        close(up[0]);
        close(up[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        /* dup2 gives 0 and 1 without FD_CLOEXEC; the four originals vanish at exec */
        if (up[1] == 0) up[1] = fcntl(up[1], F_DUPFD_CLOEXEC, 3);
        if (down[0] != 0) dup2(down[0], 0);
        else fcntl(0, F_SETFD, 0);
        if (up[1] != 1) dup2(up[1], 1);
        else fcntl(1, F_SETFD, 0);
        execvp(argv[0], argv);
        say("cannot execute ", argv[0]);
        _exit(127);
    }
    close(down[0]);
    close(up[1]);
    c->pid = pid;
    c->to_child = down[1];
    c->from_child = up[0];
    return 0;
}

ssize_t conv_exchange(struct conversation *c, const char *request, char *reply, size_t cap) {
    if (cap == 0) {
        errno = EINVAL;
        return -1;
    }
    if (send_all(c->to_child, request, strlen(request)) < 0) return -1;
    if (send_all(c->to_child, "\n", 1) < 0) return -1;
    size_t len = 0;
    for (;;) {
        char ch;
        int r = get_byte(c->from_child, &ch);
        if (r < 0) return -1;
        if (r == 0) {
            errno = EPIPE;  /* the child went away mid-conversation */
            return -1;
        }
        if (ch == '\n') break;
        if (len + 1 < cap) reply[len++] = ch;  /* too long: the rest is dropped */
    }
    reply[len] = '\0';
    return (ssize_t)len;
}

int conv_finish(struct conversation *c) {
    close(c->to_child);
    close(c->from_child);
    int st;
    pid_t r;
    do r = waitpid(c->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : st;
}

/* ---- Part C ---- */

static int answer(int out_fd, unsigned long k, char *line, size_t len) {
    char num[24];
    int pos = (int)sizeof num;
    num[--pos] = ' ';
    do num[--pos] = (char)('0' + k % 10);
    while ((k /= 10) > 0);
    for (size_t i = 0; i < len; i++)
        if (line[i] >= 'a' && line[i] <= 'z') line[i] = (char)(line[i] - 32);
    if (send_all(out_fd, num + pos, sizeof num - (size_t)pos) < 0) return -1;
    if (send_all(out_fd, line, len) < 0) return -1;
    return send_all(out_fd, "\n", 1);
}

int serve(int in_fd, int out_fd) {
    char *line = NULL;
    size_t len = 0, cap = 0;
    unsigned long k = 0;
    int rc = 0;
    for (;;) {
        char ch;
        int r = get_byte(in_fd, &ch);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0) {
            if (len > 0) rc = answer(out_fd, ++k, line, len);  /* unterminated last line */
            break;
        }
        if (ch == '\n') {
            if (answer(out_fd, ++k, line, len) < 0) {
                rc = -1;
                break;
            }
            len = 0;
            continue;
        }
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 128;
            char *grown = realloc(line, ncap);
            if (grown == NULL) {
                rc = -1;
                break;
            }
            line = grown;
            cap = ncap;
        }
        line[len++] = ch;
    }
    free(line);
    return rc;
}
