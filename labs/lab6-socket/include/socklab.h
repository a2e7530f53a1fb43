/* Lab 6: sockets. The API you implement in socklab.c.
 *
 * A stream socket server, UNIX-domain (a path) or TCP (127.0.0.1 and a port), the same code for
 * both. Messages are frames: a 4-byte length in network byte order (big-endian), then that many
 * bytes. The service: every request frame gets one reply frame of the same length, its ASCII
 * letters 'a'..'z' turned to upper case, every other byte unchanged. Replies to one client go in
 * the order of its requests. A request of length 0 asks the server to stop.
 *
 * One server process serves many clients at once (poll or epoll): a client that is slow, silent,
 * or sends a large request without reading its replies must never hold the others up, and the
 * server must never block in a send while a client is blocked sending to it.
 *
 * The grader runs the server and the clients as separate processes under different user ids
 * (make the socket file mode 0666 after bind), and watches them from outside (/proc, and the
 * clients it trusts). See README.md. */
#ifndef IPCGRADE_LAB6_SOCKLAB_H
#define IPCGRADE_LAB6_SOCKLAB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SOCK_MAX_FRAME (16u * 1024 * 1024) /* the longest frame payload, in bytes */

/* Where the server listens: a UNIX-domain path (family AF_UNIX) or 127.0.0.1:port (AF_INET). */
struct sock_endpoint {
    int family;           /* AF_UNIX or AF_INET */
    const char *path;     /* AF_UNIX: the socket file's path */
    unsigned short port;  /* AF_INET: the port, host byte order */
};

/* Creates a listening stream socket at ep (backlog of at least 128) and returns it, or -1 with
 * errno. AF_UNIX: a socket file left at the path by a crashed run (bind fails with EADDRINUSE,
 * and connecting to it fails with ECONNREFUSED: nobody listens) is removed and the bind tried
 * again; a path where a server does listen is never taken over (-1, EADDRINUSE). The file is made
 * mode 0666. AF_INET: SO_REUSEADDR, bound to 127.0.0.1 only. */
int sock_listen(const struct sock_endpoint *ep);

/* Connects a stream socket to ep and returns it, or -1 with errno (ECONNREFUSED or ENOENT when no
 * server is there). Never exit() from a library function. */
int sock_connect(const struct sock_endpoint *ep);

/* Sends one frame: the 4-byte length, then len bytes. Sends everything even when send() stops
 * short or a signal interrupts it (EINTR). Returns 0, or -1 with errno (EPIPE when the peer is
 * gone: never die of SIGPIPE, use MSG_NOSIGNAL). len <= SOCK_MAX_FRAME, else -1 with EMSGSIZE. */
int sock_send_frame(int fd, const void *buf, size_t len);

/* Receives one whole frame into buf, whatever pieces recv() returns it in (EINTR retried).
 * Returns the frame's length (0 for an empty frame), or -1 with errno: ENODATA when the peer closed cleanly before a new frame began, EPROTO when it closed in the
 * middle of a frame, EMSGSIZE when the frame is longer than cap (the frame is then consumed),
 * ECONNRESET and others as recv() gives them. */
ssize_t sock_recv_frame(int fd, void *buf, size_t cap);

/* Serves clients on listen_fd until a client sends an empty frame (request of length 0), which
 * is answered with an empty frame; then closes every client connection and returns 0. Many
 * clients at once, with poll or epoll. A client that disconnects, even in the middle of a
 * frame or with replies still unsent (EPIPE, ECONNRESET), is dropped and the others go on;
 * every closed client's descriptor is closed. EINTR (a signal handler) is no reason to stop.
 * Returns -1 with errno only when the server itself cannot go on. Does not close listen_fd. */
int sock_serve(int listen_fd);

/* Closes listen_fd and, for AF_UNIX, removes the socket file. Returns 0 or -1 with errno. */
int sock_unlisten(int listen_fd, const struct sock_endpoint *ep);

#endif
