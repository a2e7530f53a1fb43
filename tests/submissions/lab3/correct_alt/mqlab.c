/* Sample: a correct design different from the reference's. The producer side removes any old
 * queue before creating its own; take asks the queue for its msgsize on every call and receives
 * into a stack buffer; System V messages are built in a malloc'ed buffer of exactly the size. */
#define _GNU_SOURCE
#include "mqlab.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

int dispatch_open(struct dispatch *d, const char *name, long maxmsg, long msgsize, int flags) {
    int oflag = O_RDWR;
    if (flags & DISPATCH_NONBLOCK) oflag |= O_NONBLOCK;
    mqd_t q;
    if (flags & DISPATCH_CREATE) {
        if (mq_unlink(name) == -1 && errno != ENOENT) return -1;  /* whatever a crashed run left */
        struct mq_attr a;
        memset(&a, 0, sizeof a);
        a.mq_maxmsg = maxmsg;
        a.mq_msgsize = msgsize;
        q = mq_open(name, oflag | O_CREAT | O_EXCL, 0666, &a);
    } else {
        q = mq_open(name, oflag);
    }
    if (q == (mqd_t)-1) return -1;
    struct mq_attr a;
    if (mq_getattr(q, &a) == -1) {
        int e = errno;
        mq_close(q);
        errno = e;
        return -1;
    }
    *d = (struct dispatch){.q = q, .maxmsg = a.mq_maxmsg, .msgsize = a.mq_msgsize,
                           .nonblock = (flags & DISPATCH_NONBLOCK) ? 1 : 0};
    return 0;
}

int dispatch_submit(struct dispatch *d, const void *job, size_t len, unsigned priority) {
    int rc;
    do {
        rc = mq_send(d->q, job, len, priority);  /* EMSGSIZE for a job longer than msgsize */
    } while (rc == -1 && errno == EINTR);
    return rc;
}

ssize_t dispatch_take(struct dispatch *d, void *buf, size_t cap, unsigned *priority) {
    struct mq_attr a;
    if (mq_getattr(d->q, &a) == -1) return -1;
    char room[a.mq_msgsize];
    ssize_t n;
    do {
        n = mq_receive(d->q, room, sizeof room, priority);
    } while (n == -1 && errno == EINTR);
    if (n == -1) return -1;
    if ((size_t)n > cap) {
        errno = EMSGSIZE;
        return -1;
    }
    memcpy(buf, room, (size_t)n);
    return n;
}

int dispatch_close(struct dispatch *d) {
    int rc = mq_close(d->q);
    d->q = (mqd_t)-1;
    return rc;
}

int dispatch_destroy(const char *name) { return mq_unlink(name); }

int route_open(key_t key, int create) {
    int flags = create ? (IPC_CREAT | 0666) : 0;
    return msgget(key, flags);
}

int route_send(int qid, long mtype, const void *data, size_t len) {
    if (len > ROUTE_TEXT) {
        errno = EINVAL;
        return -1;
    }
    struct route_msg *m = malloc(offsetof(struct route_msg, text) + len + 1);
    if (!m) return -1;
    m->mtype = mtype;
    memcpy(m->text, data, len);
    int rc;
    do {
        rc = msgsnd(qid, m, len, 0);
    } while (rc == -1 && errno == EINTR);
    int e = errno;
    free(m);
    errno = e;
    return rc;
}

ssize_t route_receive(int qid, long mtype, void *buf, size_t cap) {
    struct route_msg *m = malloc(sizeof *m);
    if (!m) return -1;
    ssize_t n;
    do {
        n = msgrcv(qid, m, sizeof m->text, mtype, 0);
    } while (n == -1 && errno == EINTR);
    if (n >= 0 && (size_t)n > cap) {
        errno = E2BIG;
        n = -1;
    }
    if (n >= 0) memcpy(buf, m->text, (size_t)n);
    int e = errno;
    free(m);
    errno = e;
    return n;
}

int route_request(int qid, long client, const char *text) {
    char *line = NULL;
    int len = asprintf(&line, "%ld %s", client, text);
    if (len < 0) return -1;
    int rc = len > ROUTE_TEXT ? (errno = EMSGSIZE, -1) : route_send(qid, ROUTE_SERVER, line, (size_t)len);
    free(line);
    return rc;
}

int route_serve(int qid, int count) {
    char in[ROUTE_TEXT + 1];
    while (count-- > 0) {
        ssize_t n = route_receive(qid, ROUTE_SERVER, in, ROUTE_TEXT);
        if (n < 0) return -1;
        in[n] = '\0';
        char *rest = NULL;
        long client = strtol(in, &rest, 10);
        if (client < 2 || rest == in) continue;
        if (*rest == ' ') rest++;
        size_t len = (size_t)(in + n - rest);
        for (size_t i = 0; i < len; i++) rest[i] = (char)toupper((unsigned char)rest[i]);
        if (route_send(qid, client, rest, len) != 0) return -1;
    }
    return 0;
}

int route_remove(int qid) { return msgctl(qid, IPC_RMID, NULL); }
