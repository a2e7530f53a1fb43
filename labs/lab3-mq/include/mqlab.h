/* Lab 3: message queues. The API you implement in mqlab.c.
 *
 * Part A (POSIX mq_*): a priority dispatcher. Producers submit jobs with a priority; workers take
 * them, the highest priority first and, within a priority, the oldest first. A job is one
 * message: the queue keeps its boundaries, it is never a byte stream.
 * Part B (System V msgget/msgsnd/msgrcv): typed routing. One queue, one server, several clients;
 * requests carry mtype ROUTE_SERVER, the reply to client c carries mtype c, and each client
 * takes only messages of its own type.
 *
 * The grader runs every role as a separate process (producers, workers, server and clients are
 * not related) and under different user ids: create every queue with mode 0666. It watches your
 * processes from outside (/proc, and a log its own roles keep of each message). See README.md. */
#ifndef IPCGRADE_LAB3_MQLAB_H
#define IPCGRADE_LAB3_MQLAB_H

#include <mqueue.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- Part A: the POSIX priority dispatcher ------------------------------------------------- */

struct dispatch {
    mqd_t q;        /* the open queue */
    long maxmsg;    /* its mq_maxmsg: how many jobs it holds */
    long msgsize;   /* its mq_msgsize: the longest job it takes, in bytes */
    int nonblock;   /* opened with DISPATCH_NONBLOCK */
};

#define DISPATCH_CREATE   1 /* create the queue (mode 0666) with maxmsg and msgsize. A queue of that
                               name left by a crashed run (EEXIST) is removed and made anew: a job
                               of an old run must never reach a worker. */
#define DISPATCH_NONBLOCK 2 /* dispatch_submit and dispatch_take never block (O_NONBLOCK) */

/* Opens the queue `name` ("/something"). Without DISPATCH_CREATE it must exist, and maxmsg and
 * msgsize are ignored (d->maxmsg and d->msgsize come from mq_getattr). Fills *d. Returns 0, or -1
 * with errno set (e.g. EMFILE when RLIMIT_MSGQUEUE does not allow the queue): never exit(). */
int dispatch_open(struct dispatch *d, const char *name, long maxmsg, long msgsize, int flags);

/* Puts one job of len bytes (1 <= len) with the given priority (0 .. 31) in the queue. A job of
 * exactly d->msgsize bytes is fine; a longer one fails with EMSGSIZE and nothing is sent (never a
 * cut job). A full queue blocks the caller until there is room; with DISPATCH_NONBLOCK it returns
 * -1 with errno EAGAIN instead, the job NOT sent (the caller sends it again later). A signal
 * (EINTR) is retried. Returns 0, or -1 with errno set. */
int dispatch_submit(struct dispatch *d, const void *job, size_t len, unsigned priority);

/* Takes the next job (highest priority first, oldest first within a priority) into buf, which
 * holds cap bytes; cap may be smaller than d->msgsize (mq_receive needs a buffer of msgsize
 * bytes: use one of your own). Stores the job's priority in *priority when not NULL. An empty
 * queue blocks the caller (never spin); with DISPATCH_NONBLOCK it returns -1 with errno EAGAIN.
 * A signal (EINTR) is retried. A job longer than cap: -1 with errno EMSGSIZE.
 * Returns the job's length, or -1 with errno set. */
ssize_t dispatch_take(struct dispatch *d, void *buf, size_t cap, unsigned *priority);

/* Closes the queue descriptor. Returns 0, or -1 with errno set. */
int dispatch_close(struct dispatch *d);

/* Removes the queue `name` (mq_unlink): the dispatcher's last call. Returns 0, or -1 with errno. */
int dispatch_destroy(const char *name);

/* ---- Part B: System V typed routing --------------------------------------------------------- */

#define ROUTE_SERVER 1L   /* the mtype of every request */
#define ROUTE_TEXT 256    /* the longest request or reply text, in bytes */

/* The message as msgsnd/msgrcv see it. msgsz counts the bytes of text only, never mtype. */
struct route_msg {
    long mtype;
    char text[ROUTE_TEXT];
};

/* The queue for `key`: created (mode 0666) when create is non-zero, else it must exist.
 * Returns the queue id, or -1 with errno set. */
int route_open(key_t key, int create);

/* Sends len bytes (at most ROUTE_TEXT) of data as one message of type mtype (>= 1). Retries EINTR.
 * Returns 0, or -1 with errno set. */
int route_send(int qid, long mtype, const void *data, size_t len);

/* Receives the oldest message of type mtype (>= 1: only that type) into buf (cap bytes, at most
 * ROUTE_TEXT are ever needed). Blocks until one comes; retries EINTR. Returns its length (text
 * bytes), or -1 with errno set (E2BIG when it is longer than cap). */
ssize_t route_receive(int qid, long mtype, void *buf, size_t cap);

/* Client c's request: "<c> <text>", sent with mtype ROUTE_SERVER. Client numbers are >= 2
 * (mtype 1 is the requests'). */
int route_request(int qid, long client, const char *text);

/* The server: takes `count` requests (mtype ROUTE_SERVER) and answers each at once with one reply
 * of mtype c (the client's number from the request) whose text is the request's text after
 * "<c> " in upper case, sent with exactly its length (no NUL). Returns 0, or -1 with errno set. */
int route_serve(int qid, int count);

/* Removes the queue (msgctl IPC_RMID). Returns 0, or -1 with errno set. */
int route_remove(int qid);

#endif
