/* Lab 2: named pipes (FIFOs). The API you implement in fifo_service.c.
 *
 * A FIFO is a pipe with a name in the file system: processes with no common parent meet through
 * it. It still carries one direction (half duplex), so a request/reply service needs two kinds:
 *   - one well-known request FIFO (request_fifo), made by the server, read only by the server,
 *     written by every client;
 *   - one reply FIFO per client, named reply_prefix followed by the client's pid in decimal
 *     ("/tmp/x-reply-" + "1234"), made by the client, read only by it, written by the server.
 *
 * The protocol, byte for byte:
 *   request: "<client pid> <request text>\n", written to request_fifo with ONE write() of at
 *            most FIFO_REQUEST_MAX (= PIPE_BUF) bytes, so that requests of concurrent clients
 *            never interleave. The text holds no '\n'.
 *   reply:   "<reply text>\n" written by the server on the client's reply FIFO, which it opens
 *            for writing, writes and closes. The text holds no '\n' and may be up to
 *            FIFO_REPLY_MAX bytes: larger than a pipe's buffer.
 *
 * Every process runs with umask 0 and may run under another uid than its peers: create every
 * FIFO with mode 0666. The grader watches your processes from outside (through /proc): which FIFO
 * ends each holds, where it blocks, how much CPU an idle server burns. See README.md. */
#ifndef IPCGRADE_LAB2_FIFO_SERVICE_H
#define IPCGRADE_LAB2_FIFO_SERVICE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define FIFO_REQUEST_MAX PIPE_BUF       /* a whole request line, its '\n' included */
#define FIFO_REPLY_MAX (256 * 1024)     /* a reply text, without its '\n' */

/* Computes the reply to one request (its text, without the pid and the '\n'): writes at most
 * cap bytes to reply and returns how many. Given by the caller of fifo_server_run. */
typedef size_t (*fifo_handler)(const char *request, size_t len, char *reply, size_t cap);

/* The server. Creates request_fifo (mode 0666; a FIFO already there, left by a crashed run, is
 * used as it is or made again), and serves requests until max_requests were handled (0: for
 * ever): for each request line, handler's reply goes to reply_prefix<pid>. Serving must go on
 *   - when no client has the request FIFO open for a while (keep a write end of your own);
 *   - when a client died before its reply (EPIPE; SIGPIPE must not end the server);
 *   - when a signal interrupts a call (EINTR).
 * While no request is there it blocks (no busy waiting). At the end it removes request_fifo.
 * Returns 0, or -1 with errno set if the service could not start. */
int fifo_server_run(const char *request_fifo, const char *reply_prefix, fifo_handler handler, long max_requests);

/* One call of a client: makes its reply FIFO reply_prefix<getpid()> (mode 0666; one already there
 * from a crashed run is replaced), sends "<pid> <request>\n" in one write(), reads the reply line,
 * stores it without its '\n', NUL-terminated, in reply (at most cap-1 bytes; the rest of the line is
 * read and dropped), and removes its reply FIFO. Returns the number of bytes stored, or -1 with
 * errno set (its reply FIFO removed):
 *   ENOENT    request_fifo does not exist (no server yet)
 *   ENXIO     request_fifo exists but no server has it open (open it with O_NONBLOCK: never hang)
 *   EMSGSIZE  the request line would be longer than FIFO_REQUEST_MAX
 *   EPIPE     the server went away before the whole reply came
 * Interrupted calls (EINTR) are retried. */
ssize_t fifo_client_call(const char *request_fifo, const char *reply_prefix, const char *request, char *reply,
                         size_t cap);

#endif
