/* Lab 3: message queues. Implement the functions of mqlab.h (read README.md first).
 * Every function below is a stub that fails with ENOSYS: replace each TODO. */
#define _GNU_SOURCE
#include "mqlab.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>

/* ---- Part A: POSIX ---- */

int dispatch_open(struct dispatch *d, const char *name, long maxmsg, long msgsize, int flags) {
    /* TODO: mq_open (O_RDWR, O_NONBLOCK with DISPATCH_NONBLOCK). With DISPATCH_CREATE: O_CREAT |
     * O_EXCL, mode 0666, struct mq_attr with maxmsg and msgsize; on EEXIST mq_unlink the old queue
     * and create it again. Then mq_getattr to fill d->maxmsg and d->msgsize. */
    (void)d; (void)name; (void)maxmsg; (void)msgsize; (void)flags;
    errno = ENOSYS;
    return -1;
}

int dispatch_submit(struct dispatch *d, const void *job, size_t len, unsigned priority) {
    /* TODO: mq_send with the job's priority; retry EINTR; a job longer than d->msgsize fails with
     * EMSGSIZE; with DISPATCH_NONBLOCK a full queue gives -1 with errno EAGAIN (job not sent). */
    (void)d; (void)job; (void)len; (void)priority;
    errno = ENOSYS;
    return -1;
}

ssize_t dispatch_take(struct dispatch *d, void *buf, size_t cap, unsigned *priority) {
    /* TODO: mq_receive into a buffer of d->msgsize bytes of your own (cap may be smaller), retry
     * EINTR, copy the job into buf (EMSGSIZE if it does not fit in cap), return its length. */
    (void)d; (void)buf; (void)cap; (void)priority;
    errno = ENOSYS;
    return -1;
}

int dispatch_close(struct dispatch *d) {
    /* TODO: mq_close */
    (void)d;
    errno = ENOSYS;
    return -1;
}

int dispatch_destroy(const char *name) {
    /* TODO: mq_unlink */
    (void)name;
    errno = ENOSYS;
    return -1;
}

/* ---- Part B: System V ---- */

int route_open(key_t key, int create) {
    /* TODO: msgget(key, create ? IPC_CREAT | 0666 : 0) */
    (void)key; (void)create;
    errno = ENOSYS;
    return -1;
}

int route_send(int qid, long mtype, const void *data, size_t len) {
    /* TODO: fill a struct route_msg and msgsnd it; msgsz is len (the text only); retry EINTR */
    (void)qid; (void)mtype; (void)data; (void)len;
    errno = ENOSYS;
    return -1;
}

ssize_t route_receive(int qid, long mtype, void *buf, size_t cap) {
    /* TODO: msgrcv(qid, &m, ROUTE_TEXT, mtype, 0); retry EINTR; copy the text into buf */
    (void)qid; (void)mtype; (void)buf; (void)cap;
    errno = ENOSYS;
    return -1;
}

int route_request(int qid, long client, const char *text) {
    /* TODO: "<client> <text>" with mtype ROUTE_SERVER */
    (void)qid; (void)client; (void)text;
    errno = ENOSYS;
    return -1;
}

int route_serve(int qid, int count) {
    /* TODO: count times: take a request (mtype ROUTE_SERVER), reply with mtype = the client's
     * number and the rest of its text in upper case */
    (void)qid; (void)count;
    errno = ENOSYS;
    return -1;
}

int route_remove(int qid) {
    /* TODO: msgctl(qid, IPC_RMID, NULL) */
    (void)qid;
    errno = ENOSYS;
    return -1;
}
