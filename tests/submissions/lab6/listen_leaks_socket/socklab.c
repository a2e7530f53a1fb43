/* Buggy sample (listen_leaks_socket): sock_listen returns -1 when bind(), chmod() or listen()
 * fails but leaves the socket it made open: a server that retries leaks one descriptor a try. */
#define _GNU_SOURCE
#include "socklab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { HEADER = 4, BACKLOG = 128, CHUNK = 65536 };

/* ---- addresses ------------------------------------------------------------------------------ */

static int make_address(const struct sock_endpoint *ep, struct sockaddr_storage *sa, socklen_t *len) {
    memset(sa, 0, sizeof *sa);
    if (ep == NULL) { errno = EINVAL; return -1; }
    if (ep->family == AF_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)sa;
        if (ep->path == NULL || strlen(ep->path) >= sizeof un->sun_path) { errno = ENAMETOOLONG; return -1; }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, ep->path);
        *len = (socklen_t)sizeof *un;
        return 0;
    }
    if (ep->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)sa;
        in->sin_family = AF_INET;
        in->sin_port = htons(ep->port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = (socklen_t)sizeof *in;
        return 0;
    }
    errno = EAFNOSUPPORT;
    return -1;
}

static void close_keeping_errno(int fd) {
    int saved = errno;
    close(fd);
    errno = saved;
}

/* connect() that finishes the connection when a signal interrupts it. */
static int connect_fully(int fd, const struct sockaddr *sa, socklen_t len) {
    if (connect(fd, sa, len) == 0) return 0;
    if (errno != EINTR && errno != EINPROGRESS) return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    while (poll(&p, 1, -1) == -1)
        if (errno != EINTR) return -1;
    int err = 0;
    socklen_t elen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1) return -1;
    if (err != 0) { errno = err; return -1; }
    return 0;
}

/* A socket file nobody listens on (connect: ECONNREFUSED) is left by a crashed run. */
static int is_stale_socket(const struct sockaddr *sa, socklen_t len) {
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe == -1) return 0;
    int stale = connect_fully(probe, sa, len) == -1 && errno == ECONNREFUSED;
    close(probe);
    return stale;
}

int sock_listen(const struct sock_endpoint *ep) {
    struct sockaddr_storage sa;
    socklen_t len;
    if (make_address(ep, &sa, &len) == -1) return -1;
    int fd = socket(ep->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) return -1;
    if (ep->family == AF_INET) {
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    }
    int rc = bind(fd, (struct sockaddr *)&sa, len);
    if (rc == -1 && errno == EADDRINUSE && ep->family == AF_UNIX) {
        struct stat st;
        if (lstat(ep->path, &st) == 0 && S_ISSOCK(st.st_mode) && is_stale_socket((struct sockaddr *)&sa, len)) {
            unlink(ep->path);
            rc = bind(fd, (struct sockaddr *)&sa, len);
        } else {
            errno = EADDRINUSE;
        }
    }
    if (rc == -1 || (ep->family == AF_UNIX && chmod(ep->path, 0666) == -1) || listen(fd, BACKLOG) == -1)
        return -1; /* BUG: the socket stays open */
    return fd;
}

int sock_connect(const struct sock_endpoint *ep) {
    struct sockaddr_storage sa;
    socklen_t len;
    if (make_address(ep, &sa, &len) == -1) return -1;
    int fd = socket(ep->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) return -1;
    if (connect_fully(fd, (struct sockaddr *)&sa, len) == -1) {
        close_keeping_errno(fd);
        return -1;
    }
    return fd;
}

int sock_unlisten(int listen_fd, const struct sock_endpoint *ep) {
    int rc = close(listen_fd);
    if (ep != NULL && ep->family == AF_UNIX && ep->path != NULL && unlink(ep->path) == -1 && rc == 0) rc = -1;
    return rc;
}

/* ---- frames on a blocking socket (the client side) ------------------------------------------ */

static int send_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n >= 0) {
            p += n;
            len -= (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd w = {.fd = fd, .events = POLLOUT};
            if (poll(&w, 1, -1) == -1 && errno != EINTR) return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

/* Reads exactly len bytes: 1, 0 when the peer closed before the first byte, -1 (EPROTO when it
 * closed after some). */
static int recv_all(int fd, void *buf, size_t len) {
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, p + got, len - got, 0);
        if (n > 0) {
            got += (size_t)n;
        } else if (n == 0) {
            if (got == 0) return 0;
            errno = EPROTO;
            return -1;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd r = {.fd = fd, .events = POLLIN};
            if (poll(&r, 1, -1) == -1 && errno != EINTR) return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 1;
}

int sock_send_frame(int fd, const void *buf, size_t len) {
    if (len > SOCK_MAX_FRAME) { errno = EMSGSIZE; return -1; }
    uint32_t be = htonl((uint32_t)len);
    if (send_all(fd, &be, HEADER) == -1) return -1;
    return send_all(fd, buf, len);
}

ssize_t sock_recv_frame(int fd, void *buf, size_t cap) {
    uint32_t be;
    int r = recv_all(fd, &be, HEADER);
    if (r <= 0) {
        if (r == 0) errno = ENODATA;
        return -1;
    }
    size_t len = ntohl(be);
    if (len > SOCK_MAX_FRAME) { errno = EPROTO; return -1; }
    if (len > cap) {  /* consume it, so the next frame starts in the right place */
        char sink[4096];
        for (size_t left = len; left > 0;) {
            size_t n = left < sizeof sink ? left : sizeof sink;
            if (recv_all(fd, sink, n) != 1) { if (errno == 0) errno = EPROTO; return -1; }
            left -= n;
        }
        errno = EMSGSIZE;
        return -1;
    }
    if (len > 0 && recv_all(fd, buf, len) != 1) {
        if (errno != EPROTO && errno != ECONNRESET) errno = EPROTO;
        return -1;
    }
    return (ssize_t)len;
}

/* ---- the server ------------------------------------------------------------------------------ */

struct bytes {
    char *data;
    size_t len, cap, start;  /* live bytes are data[start .. len) */
};

static int bytes_append(struct bytes *b, const void *p, size_t n) {
    if (b->start > 0 && b->start == b->len) b->start = b->len = 0;
    if (b->len + n > b->cap) {
        if (b->start > 0) {  /* reuse the consumed front first */
            memmove(b->data, b->data + b->start, b->len - b->start);
            b->len -= b->start;
            b->start = 0;
        }
        size_t cap = b->cap ? b->cap : CHUNK;
        while (cap < b->len + n) cap *= 2;
        if (cap != b->cap) {
            char *d = realloc(b->data, cap);
            if (d == NULL) return -1;
            b->data = d;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

struct client {
    int fd;
    int eof;  /* the client sent all it will send: answer what is queued, then close */
    struct bytes in, out;
};

struct server {
    struct client *clients;
    struct pollfd *polls;
    size_t n, cap;
    int stopping;
};

static void drop_client(struct server *s, size_t i) {
    close(s->clients[i].fd);
    free(s->clients[i].in.data);
    free(s->clients[i].out.data);
    s->clients[i] = s->clients[--s->n];
}

static int add_client(struct server *s, int fd) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct client *c = realloc(s->clients, cap * sizeof *c);
        if (c == NULL) return -1;
        s->clients = c;
        struct pollfd *p = realloc(s->polls, (cap + 1) * sizeof *p);
        if (p == NULL) return -1;
        s->polls = p;
        s->cap = cap;
    }
    s->clients[s->n++] = (struct client){.fd = fd};
    return 0;
}

/* Turns every whole frame of c->in into a reply in c->out. */
static int answer_frames(struct server *s, struct client *c) {
    for (;;) {
        size_t avail = c->in.len - c->in.start;
        if (avail < HEADER) return 0;
        uint32_t be;
        memcpy(&be, c->in.data + c->in.start, HEADER);
        size_t len = ntohl(be);
        if (len > SOCK_MAX_FRAME) { errno = EPROTO; return -1; }
        if (avail < HEADER + len) return 0;
        char *p = c->in.data + c->in.start + HEADER;
        for (size_t k = 0; k < len; k++)
            if (p[k] >= 'a' && p[k] <= 'z') p[k] = (char)(p[k] - 'a' + 'A');
        if (bytes_append(&c->out, c->in.data + c->in.start, HEADER + len) == -1) return -1;
        c->in.start += HEADER + len;
        if (len == 0) s->stopping = 1;
    }
}

/* Reads what is there; -1 when the client is gone or broke the protocol. */
static int on_readable(struct server *s, struct client *c) {
    char buf[CHUNK];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0) {
            if (bytes_append(&c->in, buf, (size_t)n) == -1) return -1;
            if ((size_t)n < sizeof buf) break;
        } else if (n == 0) {
            c->eof = 1;
            break;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            return -1;  /* ECONNRESET and the like: this client is gone */
        }
    }
    return answer_frames(s, c);
}

/* Sends what the socket takes now; -1 when the client is gone (EPIPE, ECONNRESET). */
static int on_writable(struct client *c) {
    while (c->out.start < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out.start, c->out.len - c->out.start, MSG_NOSIGNAL);
        if (n >= 0) c->out.start += (size_t)n;
        else if (errno == EINTR) continue;
        else if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        else return -1;
    }
    c->out.start = c->out.len = 0;
    return 0;
}

static void accept_all(struct server *s, int listen_fd) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1) return;  /* EAGAIN: none left; EINTR, ECONNABORTED, EMFILE: next round */
        if (add_client(s, fd) == -1) { close(fd); return; }
    }
}

static void free_server(struct server *s) {
    while (s->n > 0) drop_client(s, s->n - 1);
    free(s->clients);
    free(s->polls);
}

int sock_serve(int listen_fd) {
    int flags = fcntl(listen_fd, F_GETFL);
    if (flags == -1 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) == -1) return -1;
    struct server s = {0};
    for (;;) {
        if (s.stopping) {  /* what the sockets take now (the stop's 4-byte reply), then done */
            for (size_t i = 0; i < s.n; i++) on_writable(&s.clients[i]);
            break;
        }
        if (add_client(&s, -1) == -1) { free_server(&s); return -1; }  /* room for the listener */
        s.n--;
        s.polls[0] = (struct pollfd){.fd = s.stopping ? -1 : listen_fd, .events = POLLIN};
        for (size_t i = 0; i < s.n; i++) {
            struct client *c = &s.clients[i];
            short ev = c->eof ? 0 : POLLIN;
            if (c->out.start < c->out.len) ev |= POLLOUT;
            s.polls[i + 1] = (struct pollfd){.fd = c->fd, .events = ev};
        }
        if (poll(s.polls, s.n + 1, -1) == -1) {
            if (errno == EINTR) continue;
            int saved = errno;
            free_server(&s);
            errno = saved;
            return -1;
        }
        /* Clients first, from the last (drop_client moves the last into the hole). */
        for (size_t i = s.n; i-- > 0;) {
            short re = s.polls[i + 1].revents;
            if (re == 0) continue;
            struct client *c = &s.clients[i];
            int bad = 0;
            if (re & (POLLIN | POLLHUP | POLLERR)) bad = on_readable(&s, c) == -1;
            if (!bad && (c->out.start < c->out.len)) bad = on_writable(c) == -1;
            if (bad || (c->eof && c->out.start == c->out.len)) drop_client(&s, i);
        }
        if (s.polls[0].revents & POLLIN) accept_all(&s, listen_fd);
    }
    free_server(&s);
    return 0;
}
