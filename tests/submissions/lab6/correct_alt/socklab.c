/* correct_alt: another correct lab 6, written differently from the reference: epoll with the
 * client's state behind each event (data.ptr), SIGPIPE ignored instead of MSG_NOSIGNAL on the
 * server side, frames parsed in place with a read offset, and an explicit half-close state. */
#define _GNU_SOURCE
#include "socklab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t fill_address(const struct sock_endpoint *ep, struct sockaddr_un *un, struct sockaddr_in *in) {
    if (ep->family == AF_UNIX) {
        memset(un, 0, sizeof *un);
        un->sun_family = AF_UNIX;
        if (ep->path == NULL || strlen(ep->path) >= sizeof un->sun_path) { errno = ENAMETOOLONG; return 0; }
        strcpy(un->sun_path, ep->path);
        return sizeof *un;
    }
    if (ep->family == AF_INET) {
        memset(in, 0, sizeof *in);
        in->sin_family = AF_INET;
        in->sin_port = htons(ep->port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof *in;
    }
    errno = EAFNOSUPPORT;
    return 0;
}

static const struct sockaddr *address_of(const struct sock_endpoint *ep, struct sockaddr_un *un, struct sockaddr_in *in) {
    return ep->family == AF_UNIX ? (const struct sockaddr *)un : (const struct sockaddr *)in;
}

static int try_connect(int fd, const struct sockaddr *sa, socklen_t len) {
    int rc = connect(fd, sa, len);
    if (rc == 0 || errno != EINTR) return rc;
    /* interrupted: the connection goes on in the background; wait for its outcome */
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    while ((rc = poll(&p, 1, -1)) < 0 && errno == EINTR) {}
    if (rc < 0) return -1;
    int err;
    socklen_t l = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
    errno = err;
    return err ? -1 : 0;
}

int sock_listen(const struct sock_endpoint *ep) {
    struct sockaddr_un un;
    struct sockaddr_in in;
    if (ep == NULL) { errno = EINVAL; return -1; }
    socklen_t len = fill_address(ep, &un, &in);
    if (len == 0) return -1;
    const struct sockaddr *sa = address_of(ep, &un, &in);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = socket(ep->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        int one = 1;
        if (ep->family == AF_INET) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, sa, len) == 0) {
            if ((ep->family == AF_UNIX && chmod(ep->path, 0666) < 0) || listen(fd, SOMAXCONN) < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
            }
            return fd;
        }
        int e = errno;
        close(fd);
        if (e != EADDRINUSE || ep->family != AF_UNIX || attempt > 0) { errno = e; return -1; }
        /* Someone listening there? Only a refused connection makes the file ours to replace. */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0) return -1;
        int live = try_connect(probe, sa, len) == 0 || errno != ECONNREFUSED;
        close(probe);
        if (live) { errno = EADDRINUSE; return -1; }
        if (unlink(ep->path) < 0 && errno != ENOENT) return -1;
    }
    errno = EADDRINUSE;
    return -1;
}

int sock_connect(const struct sock_endpoint *ep) {
    struct sockaddr_un un;
    struct sockaddr_in in;
    if (ep == NULL) { errno = EINVAL; return -1; }
    socklen_t len = fill_address(ep, &un, &in);
    if (len == 0) return -1;
    int fd = socket(ep->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (try_connect(fd, address_of(ep, &un, &in), len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int sock_unlisten(int listen_fd, const struct sock_endpoint *ep) {
    int failed = close(listen_fd) < 0;
    if (ep && ep->family == AF_UNIX && ep->path && unlink(ep->path) < 0) failed = 1;
    return failed ? -1 : 0;
}

int sock_send_frame(int fd, const void *buf, size_t len) {
    if (len > SOCK_MAX_FRAME) { errno = EMSGSIZE; return -1; }
    unsigned char header[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                               (unsigned char)len};
    struct { const char *p; size_t n; } parts[2] = {{(const char *)header, 4}, {buf, len}};
    for (int i = 0; i < 2; i++) {
        while (parts[i].n > 0) {
            ssize_t w = send(fd, parts[i].p, parts[i].n, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) continue;
                return -1;
            }
            parts[i].p += w;
            parts[i].n -= (size_t)w;
        }
    }
    return 0;
}

/* 1: all n bytes; 0: EOF before any; -1: error (EPROTO for EOF after some). */
static int read_exactly(int fd, void *buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = recv(fd, (char *)buf + done, n - done, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) {
            if (done == 0) return 0;
            errno = EPROTO;
            return -1;
        }
        done += (size_t)r;
    }
    return 1;
}

ssize_t sock_recv_frame(int fd, void *buf, size_t cap) {
    unsigned char h[4];
    int r = read_exactly(fd, h, 4);
    if (r == 0) errno = ENODATA;
    if (r <= 0) return -1;
    size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
    if (len > SOCK_MAX_FRAME) { errno = EPROTO; return -1; }
    if (len <= cap) {
        r = read_exactly(fd, buf, len);
        if (r == 0 && len > 0) errno = EPROTO;
        return r < 0 || (r == 0 && len > 0) ? -1 : (ssize_t)len;
    }
    char scratch[8192];
    while (len > 0) {
        size_t n = len < sizeof scratch ? len : sizeof scratch;
        r = read_exactly(fd, scratch, n);
        if (r <= 0) { if (r == 0) errno = EPROTO; return -1; }
        len -= n;
    }
    errno = EMSGSIZE;
    return -1;
}

/* ---- server -------------------------------------------------------------------------------- */

struct conn {
    int fd;
    char *in;
    size_t in_len, in_cap, in_off;
    char *out;
    size_t out_len, out_cap, out_off;
    bool read_closed;
    bool want_out;  /* EPOLLOUT registered */
};

static bool reserve(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 4096;
    while (c < need) c += c / 2 + 4096;
    char *p = realloc(*buf, c);
    if (!p) return false;
    *buf = p;
    *cap = c;
    return true;
}

static void conn_free(int ep, struct conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

static void update_interest(int ep, struct conn *c) {
    bool want = c->out_off < c->out_len;
    struct epoll_event ev = {.events = (c->read_closed ? 0 : EPOLLIN) | (want ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want;
}

/* Frames complete in c->in become replies; returns 1 when a stop frame was seen, -1 on error. */
static int parse(struct conn *c) {
    int stop = 0;
    while (c->in_len - c->in_off >= 4) {
        unsigned char *h = (unsigned char *)c->in + c->in_off;
        size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
        if (len > SOCK_MAX_FRAME) return -1;
        if (c->in_len - c->in_off - 4 < len) break;
        if (!reserve(&c->out, &c->out_cap, c->out_len + 4 + len)) return -1;
        memcpy(c->out + c->out_len, h, 4 + len);
        for (char *p = c->out + c->out_len + 4, *e = p + len; p < e; p++)
            if (*p >= 'a' && *p <= 'z') *p -= 'a' - 'A';
        c->out_len += 4 + len;
        c->in_off += 4 + len;
        if (len == 0) stop = 1;
    }
    if (c->in_off == c->in_len) c->in_off = c->in_len = 0;
    return stop;
}

/* false: drop the connection. */
static bool pump_out(struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN;
        }
        c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
    return true;
}

static bool pump_in(struct conn *c, int *stop) {
    for (;;) {
        if (c->in_off > 0 && c->in_cap - c->in_len < 16384) {
            memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
            c->in_len -= c->in_off;
            c->in_off = 0;
        }
        if (!reserve(&c->in, &c->in_cap, c->in_len + 32768)) return false;
        ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            return false;
        }
        if (r == 0) {
            c->read_closed = true;
            break;
        }
        c->in_len += (size_t)r;
    }
    int p = parse(c);
    if (p < 0) return false;
    if (p) *stop = 1;
    return true;
}

int sock_serve(int listen_fd) {
    static struct conn dropped;  /* marks events of a connection freed earlier in the batch */
    signal(SIGPIPE, SIG_IGN);  /* writes to a gone client: EPIPE, never a signal death */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return -1;
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &lev) < 0) { close(ep); return -1; }
    struct conn **all = NULL;
    size_t n_all = 0, cap_all = 0;
    int stop = 0, result = 0;
    struct epoll_event events[64];
    while (!stop) {
        int n = epoll_wait(ep, events, 64, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            result = -1;
            break;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == &dropped) continue;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    struct conn *nc = calloc(1, sizeof *nc);
                    if (!nc || (n_all == cap_all && !(cap_all = cap_all ? 2 * cap_all : 32,
                                                     all = realloc(all, cap_all * sizeof *all)))) {
                        close(fd);
                        free(nc);
                        continue;
                    }
                    nc->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                    all[n_all++] = nc;
                }
                continue;
            }
            bool ok = true;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ok = c->read_closed || pump_in(c, &stop);
            if (ok) ok = pump_out(c);
            if (ok && c->read_closed && c->out_off == c->out_len) ok = false;
            if (!ok) {
                for (size_t k = 0; k < n_all; k++)
                    if (all[k] == c) { all[k] = all[--n_all]; break; }
                conn_free(ep, c);
                /* a later event of this batch may name c: forget them */
                for (int j = i + 1; j < n; j++)
                    if (events[j].data.ptr == c) events[j].data.ptr = &dropped;
            } else {
                update_interest(ep, c);
            }
        }
    }
    for (size_t k = 0; k < n_all; k++) {
        pump_out(all[k]);
        conn_free(ep, all[k]);
    }
    free(all);
    close(ep);
    return result;
}
