/* Lab 6: implement the functions of socklab.h here. Each stub fails with ENOSYS. */
#define _GNU_SOURCE
#include "socklab.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

int sock_listen(const struct sock_endpoint *ep) {
    (void)ep;
    errno = ENOSYS;
    return -1;
}

int sock_connect(const struct sock_endpoint *ep) {
    (void)ep;
    errno = ENOSYS;
    return -1;
}

int sock_send_frame(int fd, const void *buf, size_t len) {
    (void)fd, (void)buf, (void)len;
    errno = ENOSYS;
    return -1;
}

ssize_t sock_recv_frame(int fd, void *buf, size_t cap) {
    (void)fd, (void)buf, (void)cap;
    errno = ENOSYS;
    return -1;
}

int sock_serve(int listen_fd) {
    (void)listen_fd;
    errno = ENOSYS;
    return -1;
}

int sock_unlisten(int listen_fd, const struct sock_endpoint *ep) {
    (void)listen_fd, (void)ep;
    errno = ENOSYS;
    return -1;
}
