/* Buggy sample (iterative_server): the server serves one client at a time (accept, then
 * blocking recv/send until that client leaves): a silent client holds every other one up. */
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
    if (rc == -1 || (ep->family == AF_UNIX && chmod(ep->path, 0666) == -1) || listen(fd, BACKLOG) == -1) {
        close_keeping_errno(fd);
        return -1;
    }
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

/* One client at a time: accept, answer its frames until it leaves, then the next one. */
int sock_serve(int listen_fd) {
    char *buf = malloc(SOCK_MAX_FRAME);
    if (buf == NULL) return -1;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);  /* BUG: the others wait until this client leaves */
        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            free(buf);
            return -1;
        }
        for (;;) {
            ssize_t n = sock_recv_frame(fd, buf, SOCK_MAX_FRAME);
            if (n < 0) break;
            for (ssize_t k = 0; k < n; k++)
                if (buf[k] >= 'a' && buf[k] <= 'z') buf[k] = (char)(buf[k] - 'a' + 'A');
            if (sock_send_frame(fd, buf, (size_t)n) != 0) break;
            if (n == 0) {
                close(fd);
                free(buf);
                return 0;
            }
        }
        close(fd);
    }
}
