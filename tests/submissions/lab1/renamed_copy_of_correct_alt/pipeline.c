/* Sample submission "renamed_copy_of_correct_alt" for the grader's own tests: correct_alt copied with its
 * own identifiers renamed, its comments dropped and its functions in another order, as a student
 * hiding a copy would. `grader similarity` must still rank it first with correct_alt
 * (tests/integration/test_similarity_cli.cpp); grading it fails nothing, like correct_alt. */
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


static void shut_all(int (*chan)[2], int how_many) {
    for (int i = 0; i < how_many; i++) {
        if (chan[i][0] >= 0) close(chan[i][0]);
        if (chan[i][1] >= 0) close(chan[i][1]);
    }
}

static int pull_one(int fd, char *c) {
    for (;;) {
        ssize_t r = read(fd, c, 1);
        if (r >= 0) return (int)r;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return -1;
    }
}

static int push_bytes(int fd, const void *bytes, size_t size) {
    const char *p = bytes;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, p + done, size - done);
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

static void complain(const char *a, const char *b) {

    if (write(2, a, strlen(a)) < 0 || write(2, b, strlen(b)) < 0 || write(2, "\n", 1) < 0) return;
}

static int respond(int out_fd, unsigned long counter, char *text, size_t size) {
    char num[24];
    int pos = (int)sizeof num;
    num[--pos] = ' ';
    do num[--pos] = (char)('0' + counter % 10);
    while ((counter /= 10) > 0);
    for (size_t i = 0; i < size; i++)
        if (text[i] >= 'a' && text[i] <= 'z') text[i] = (char)(text[i] - 32);
    if (push_bytes(out_fd, num + pos, sizeof num - (size_t)pos) < 0) return -1;
    if (push_bytes(out_fd, text, size) < 0) return -1;
    return push_bytes(out_fd, "\n", 1);
}

int serve(int in_fd, int out_fd) {
    char *text = NULL;
    size_t size = 0, cap = 0;
    unsigned long counter = 0;
    int rc = 0;
    for (;;) {
        char ch;
        int r = pull_one(in_fd, &ch);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0) {
            if (size > 0) rc = respond(out_fd, ++counter, text, size);  
            break;
        }
        if (ch == '\n') {
            if (respond(out_fd, ++counter, text, size) < 0) {
                rc = -1;
                break;
            }
            size = 0;
            continue;
        }
        if (size == cap) {
            size_t ncap = cap ? cap * 2 : 128;
            char *grown = realloc(text, ncap);
            if (grown == NULL) {
                rc = -1;
                break;
            }
            text = grown;
            cap = ncap;
        }
        text[size++] = ch;
    }
    free(text);
    return rc;
}

int conv_finish(struct conversation *c) {
    close(c->to_child);
    close(c->from_child);
    int wstat;
    pid_t r;
    do r = waitpid(c->pid, &wstat, 0);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : wstat;
}

ssize_t conv_exchange(struct conversation *c, const char *request, char *reply, size_t cap) {
    if (cap == 0) {
        errno = EINVAL;
        return -1;
    }
    if (push_bytes(c->to_child, request, strlen(request)) < 0) return -1;
    if (push_bytes(c->to_child, "\n", 1) < 0) return -1;
    size_t size = 0;
    for (;;) {
        char ch;
        int r = pull_one(c->from_child, &ch);
        if (r < 0) return -1;
        if (r == 0) {
            errno = EPIPE;  
            return -1;
        }
        if (ch == '\n') break;
        if (size + 1 < cap) reply[size++] = ch;  
    }
    reply[size] = '\0';
    return (ssize_t)size;
}

int conv_start(struct conversation *c, char *const argv[]) {
    int down[2], up[2];  
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
        
        if (up[1] == 0) up[1] = fcntl(up[1], F_DUPFD_CLOEXEC, 3);
        if (down[0] != 0) dup2(down[0], 0);
        else fcntl(0, F_SETFD, 0);
        if (up[1] != 1) dup2(up[1], 1);
        else fcntl(1, F_SETFD, 0);
        execvp(argv[0], argv);
        complain("cannot execute ", argv[0]);
        _exit(127);
    }
    close(down[0]);
    close(up[1]);
    c->pid = pid;
    c->to_child = down[1];
    c->from_child = up[0];
    return 0;
}

int run_pipeline(char *const *const stages[], int n, int in_fd, int out_fd) {
    if (n <= 0 || stages == NULL) {
        errno = EINVAL;
        return -1;
    }
    int links = n - 1;
    int (*chan)[2] = malloc(sizeof(int[2]) * (size_t)(links > 0 ? links : 1));
    pid_t *children = malloc(sizeof(pid_t) * (size_t)n);
    if (chan == NULL || children == NULL) {
        free(chan);
        free(children);
        errno = ENOMEM;
        return -1;
    }
    for (int i = 0; i < links; i++) chan[i][0] = chan[i][1] = -1;

    int failure = 0, started = 0;
    for (int i = 0; i < links && !failure; i++)
        if (pipe(chan[i]) < 0) failure = errno;

    for (int i = 0; i < n && !failure; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            failure = errno;
            break;
        }
        if (pid == 0) {
            int src_fd = i == 0 ? in_fd : chan[i - 1][0];
            int dst_fd = i == n - 1 ? out_fd : chan[i][1];
            
            if (dst_fd == 0) dst_fd = dup(dst_fd);
            if (src_fd != 0) dup2(src_fd, 0);
            if (dst_fd != 1) {
                dup2(dst_fd, 1);
                if (dst_fd > 2) close(dst_fd);
            }
            
            shut_all(chan, links);
            if (in_fd > 2) close(in_fd);
            if (out_fd > 2) close(out_fd);
            execvp(stages[i][0], stages[i]);
            complain("cannot execute ", stages[i][0]);
            _exit(127);
        }
        children[started++] = pid;
    }
    shut_all(chan, links);
    free(chan);

    if (failure) {
        for (int i = 0; i < started; i++) kill(children[i], SIGTERM);
    }

    int status_out = -1, saved_errno = 0;
    for (int i = started - 1; i >= 0; i--) {
        int wstat;
        pid_t r;
        do r = waitpid(children[i], &wstat, 0);
        while (r < 0 && errno == EINTR);
        if (i == n - 1) {
            if (r < 0) saved_errno = errno;
            else status_out = wstat;
        }
    }
    free(children);
    if (failure) {
        errno = failure;
        return -1;
    }
    if (status_out == -1) errno = saved_errno;
    return status_out;
}
