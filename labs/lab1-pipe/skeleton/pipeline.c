/* Lab 1: anonymous pipes. Your implementation of pipeline.h.
 *
 * Every function below compiles and fails with ENOSYS ("not implemented"): replace each body.
 * Read README.md first: it lists the rules the grader checks and how to run the tests.
 * Useful manual pages: pipe(2), fork(2), dup2(2), close(2), execvp(3), waitpid(2), write(2),
 * read(2), poll(2), fcntl(2), pipe(7). */
#define _GNU_SOURCE
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Part A.
 *
 * TODO: run stages[0] | stages[1] | ... | stages[n-1].
 *   - n stages need n-1 pipes. Stage i reads the pipe stage i-1 writes (stage 0 reads in_fd)
 *     and writes the pipe stage i+1 reads (the last stage writes out_fd).
 *   - In each child: dup2() its input onto 0 and its output onto 1, then close every pipe fd it
 *     still holds. The exec'ed program must hold only 0, 1 and 2. Ask yourself which pipe fds a
 *     child inherits at the moment you fork it.
 *   - A reader sees EOF only when EVERY write end of its pipe is closed, in every process,
 *     including the parent and the reader itself. A writer gets SIGPIPE only when every read end
 *     is closed. So the parent must close its copies too, as soon as it no longer needs them.
 *   - If execvp() returns, it failed: print why on stderr and _exit(127). Never let the child
 *     return into this function.
 *   - Wait for every stage, not just the last one (waitpid can fail with EINTR: try again).
 *     Return the last stage's wait status.
 *   - If pipe() or fork() fails, do not leave fds or running children behind; return -1. */
int run_pipeline(char *const *const stages[], int n, int in_fd, int out_fd) {
    (void)stages;
    (void)n;
    (void)in_fd;
    (void)out_fd;
    errno = ENOSYS;
    return -1;
}

/* Part B.
 *
 * TODO: start argv as a child whose stdin reads your requests and whose stdout carries its
 * replies.
 *   - A pipe carries bytes in one direction only: you need one pipe per direction.
 *   - The parent keeps one end of each and closes the other two; the child the reverse.
 *   - The parent's ends must not leak into programs this process starts later: see O_CLOEXEC
 *     in pipe2(2).
 *   - Fill in *c and return 0. */
int conv_start(struct conversation *c, char *const argv[]) {
    (void)c;
    (void)argv;
    errno = ENOSYS;
    return -1;
}

/* TODO: send request + '\n', then read the reply line.
 *   - write() may write fewer bytes than asked: loop until everything is written.
 *   - Read until the '\n' that ends the reply; a read() can return part of a line. Store at most
 *     cap-1 bytes and a terminating '\0'; decide what to do with the rest of a longer line so the
 *     next exchange still starts at the next reply.
 *   - Do not write the next request before this reply has been read: the child answers one
 *     request at a time.
 *   - read() returning 0 means the child closed its end: that is an error here. */
ssize_t conv_exchange(struct conversation *c, const char *request, char *reply, size_t cap) {
    (void)c;
    (void)request;
    (void)reply;
    (void)cap;
    errno = ENOSYS;
    return -1;
}

/* TODO: close both of your pipe ends (the child then reads EOF and exits), wait for the child
 * and return its wait status. */
int conv_finish(struct conversation *c) {
    (void)c;
    errno = ENOSYS;
    return -1;
}

/* Part C.
 *
 * TODO: answer every request line read from in_fd with "<k> <REQUEST IN UPPER CASE>\n" on
 * out_fd, k = 1, 2, ...; return 0 at EOF.
 *   - A request can be longer than any fixed buffer, and one read() can return several
 *     requests or part of one.
 *   - Each reply must be sent as soon as its request is complete: the parent waits for it
 *     before sending the next request. If you use stdio for output, think about buffering.
 *   - out_fd may be non-blocking: write() can then write part of the buffer, or fail with EAGAIN.
 *     Keep writing the rest; on EAGAIN, wait with poll() for POLLOUT instead of spinning. */
int serve(int in_fd, int out_fd) {
    (void)in_fd;
    (void)out_fd;
    errno = ENOSYS;
    return -1;
}
