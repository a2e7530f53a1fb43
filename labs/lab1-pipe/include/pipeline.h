/* Lab 1: anonymous pipes. The API you implement in pipeline.c.
 *
 * Part A: run_pipeline runs `s1 | s2 | ... | sN` with fork, pipe, dup2 and exec.
 * Part B: a duplex conversation with a child program over two pipes (conv_*).
 * Part C: serve, the child side of that conversation.
 *
 * The grader watches your processes from outside (through /proc) while they run: which pipe
 * ends each process holds, whether every child is waited for, whether requests and replies
 * alternate. See README.md for the rules each test checks. */
#ifndef IPCGRADE_LAB1_PIPELINE_H
#define IPCGRADE_LAB1_PIPELINE_H

#include <stddef.h>
#include <sys/types.h>

/* Runs the pipeline stages[0] | stages[1] | ... | stages[n-1] and waits for every stage.
 * stages[i] is a NULL-terminated argv; stages[i][0] is found through PATH (execvp).
 * The first stage reads from in_fd, the last writes to out_fd; every stage shares stderr.
 * Every exec'ed stage must hold exactly its stdin, stdout and stderr: no other pipe end.
 * Returns the wait status (as filled in by waitpid) of the last stage, or -1 with errno set
 * if the pipeline could not be started. A stage that cannot be exec'ed exits with status 127. */
int run_pipeline(char *const *const stages[], int n, int in_fd, int out_fd);

/* One conversation with a child over two pipes: the parent writes requests on to_child and
 * reads replies on from_child; the child's stdin is the other end of to_child and its stdout
 * the other end of from_child. */
struct conversation {
    pid_t pid;       /* the child */
    int to_child;    /* write end of the request pipe, held by the parent */
    int from_child;  /* read end of the reply pipe, held by the parent */
};

/* Starts argv (argv[0] found through PATH) as the child. Returns 0, or -1 with errno set. */
int conv_start(struct conversation *c, char *const argv[]);

/* Sends one request (a line without its '\n'; you add it) and reads the one reply line, which is
 * stored without its '\n' and NUL-terminated in reply (at most cap-1 bytes). A request is sent only
 * after the previous reply was read. Returns the reply length, or -1 with errno set. */
ssize_t conv_exchange(struct conversation *c, const char *request, char *reply, size_t cap);

/* Ends the conversation: closes both pipes (the child then sees EOF), waits for the child and
 * returns its wait status, or -1 with errno set. */
int conv_finish(struct conversation *c);

/* The child role: reads request lines from in_fd until EOF and answers each with exactly one
 * reply line on out_fd: the request number (1, 2, ...), a space, and the request in upper case.
 * "hello" as the second request is answered "2 HELLO". out_fd may be non-blocking: write()
 * can then write only part of a buffer, or fail with EAGAIN (wait with poll() and go on).
 * Returns 0 at EOF, or -1 with errno set. */
int serve(int in_fd, int out_fd);

#endif
