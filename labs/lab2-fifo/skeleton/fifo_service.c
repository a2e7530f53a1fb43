/* Lab 2: named pipes. Implement the API of fifo_service.h here (see README.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fifo_service.h"

int fifo_server_run(const char *request_fifo, const char *reply_prefix, fifo_handler handler, long max_requests) {
    /* TODO: mkfifo(request_fifo, 0666) (EEXIST: use the one there); open it for reading and keep a
     * write end of your own; read request lines "<pid> <text>\n" (split at '\n': one read may hold
     * several, or part of one); for each, reply = handler(text), open reply_prefix<pid> for writing,
     * write reply + '\n', close; survive EPIPE (ignore SIGPIPE) and EINTR; after max_requests,
     * close everything, unlink request_fifo and return 0. */
    (void)request_fifo; (void)reply_prefix; (void)handler; (void)max_requests;
    errno = ENOSYS;
    return -1;
}

ssize_t fifo_client_call(const char *request_fifo, const char *reply_prefix, const char *request, char *reply,
                         size_t cap) {
    /* TODO: mkfifo(reply_prefix<getpid()>, 0666) (EEXIST: unlink and make again); open request_fifo
     * O_WRONLY|O_NONBLOCK (ENOENT/ENXIO: no server: remove your FIFO, return -1); write
     * "<pid> <request>\n" with ONE write(); open your reply FIFO O_RDONLY; read until '\n';
     * store at most cap-1 bytes and a NUL; unlink your reply FIFO; return the length. */
    (void)request_fifo; (void)reply_prefix; (void)request; (void)reply; (void)cap;
    errno = ENOSYS;
    return -1;
}
