/* socktool: lab6's trusted client roles and helpers. Never linked with student code: it makes
 * the adversity (one byte per write, a megabyte in one call, a silent client, a client that
 * vanishes or resets) from the seed it is given, and its reports are trusted.
 *
 *   socktool echo    ADDR ID FRAMES SEED MIN MAX  exchanges, one frame at a time
 *   socktool trickle ADDR ID FRAMES SEED MIN MAX  the same, one byte per write; each byte is
 *                                                 sent once the server read the one before
 *   socktool mega    ADDR SIZE SEED               one frame of SIZE bytes in one write() call
 *   socktool flood   ADDR FRAMES SIZE SEED        every request written, only then the replies read;
 *                                                 at least FRAMES, more than the kernel's socket
 *                                                 buffers can hold
 *   socktool swarm   ADDR CLIENTS FRAMES SEED     a silent client first (2 bytes of a header, then
 *                                                 nothing), then CLIENTS at once
 *   socktool churn   ADDR COUNT SEED              COUNT connections one after another
 *   socktool midframe ADDR                         half a frame, then close
 *   socktool hangup  ADDR SIZE SEED               a SIZE request, close without reading the reply
 *   socktool reset   ADDR SEED                    close with the reply unread (peer gets ECONNRESET)
 *   socktool stop    ADDR                          the empty frame: the server stops
 *   socktool stale   PATH                          a socket file left as by a crashed server
 *   socktool exists  PATH                          "exists" or "absent" on stdout
 *   socktool unlink  PATH...                       removes the socket files of its own uid
 *
 * ADDR: unix:PATH or tcp:PORT (127.0.0.1). Reports on fd 3: "connected <n>", "flood <frames> <size>
 * <bytes the kernel's buffers can hold>", "ok <client> <k>",
 * "served <client> <ms>", "differs <client> <k> <offset> <want> <got>", "length <client> <k>
 * <sent> <got>", "error <step> <errno>", "done ...". Exit 0 when everything was as it must be. */
#include "../drivers/lab6_driver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { CTL = 3, HEADER = 4 };

static void report(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdprintf(CTL, fmt, ap);
    va_end(ap);
}

static _Noreturn void fail(const char *step) {
    report("error %s %d\n", step, errno);
    exit(1);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int family_of(const char *addr) { return strncmp(addr, "unix:", 5) == 0 ? AF_UNIX : AF_INET; }

/* buffer_bytes > 0: this end's send and receive buffers are fixed at that size (doubled by the
 * kernel) before the connection exists, so the kernel does not grow them. */
static int open_connection_with_buffers(const char *addr, int buffer_bytes) {
    int family;
    const char *path;
    unsigned short port;
    if (lab6_parse_address(addr, &family, &path, &port) != 0) { errno = EINVAL; return -1; }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (buffer_bytes > 0 && (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes) != 0 ||
                             setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes) != 0)) {
        close(fd);
        return -1;
    }
    int rc;
    if (family == AF_UNIX) {
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
        rc = connect(fd, (struct sockaddr *)&un, sizeof un);
    } else {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&in, sizeof in);
    }
    if (rc != 0) { close(fd); return -1; }
    return fd;
}

static int open_connection(const char *addr) { return open_connection_with_buffers(addr, 0); }

/* The request being sent, for "dropped" when the server closes the connection under it. */
static unsigned sending_client, sending_frame;
static size_t sending_offset, sending_length;

static void send_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET) && sending_length > 0) {
            report("dropped %u %u %zu %zu %d\n", sending_client, sending_frame, sending_offset, sending_length, errno);
            exit(1);
        }
        if (n < 0) fail("send");
        p += n;
        len -= (size_t)n;
    }
}

/* Progress of a large reply, on the control fd every this many bytes: if the reply stops short,
 * the last line says how much of it came. 0: no progress lines. */
static size_t progress_step;

/* Exactly len bytes; a close before them is reported with how many came. */
static void recv_all(int fd, void *buf, size_t len, unsigned client, unsigned k, size_t announced) {
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, p + got, len - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("recv");
        if (n == 0) {
            report("closed %u %u %zu %zu\n", client, k, announced, got);
            exit(1);
        }
        if (progress_step && (got + (size_t)n) / progress_step != got / progress_step)
            report("got %u %u %zu\n", client, k, got + (size_t)n);
        got += (size_t)n;
    }
}

static char *frame_of(size_t len, uint64_t seed, unsigned id, unsigned k) {
    char *f = malloc(HEADER + len);
    uint32_t be = htonl((uint32_t)len);
    memcpy(f, &be, HEADER);
    lab6_payload(f + HEADER, len, seed, id, k);
    return f;
}

/* Reads one reply and compares it with the transform of request (len bytes). */
static void check_reply(int fd, const char *request, size_t len, unsigned client, unsigned k) {
    uint32_t be;
    recv_all(fd, &be, HEADER, client, k, len);
    size_t n = ntohl(be);
    if (n != len) {
        report("length %u %u %zu %zu\n", client, k, len, n);
        exit(1);
    }
    char *want = malloc(len + 1), *got = malloc(len + 1);
    memcpy(want, request, len);
    lab6_transform(want, len);
    recv_all(fd, got, len, client, k, len);
    long at = lab6_first_difference(want, got, len);
    if (at >= 0) {
        report("differs %u %u %ld %d %d\n", client, k, at, want[at], got[at]);
        exit(1);
    }
    free(want);
    free(got);
}

/* Waits until the peer has read every byte written so far (AF_UNIX: SIOCOUTQ counts the bytes
 * sent and not yet read by the receiver). */
static void wait_consumed(int fd) {
    int queued = 0;
    for (;;) {
        if (ioctl(fd, SIOCOUTQ, &queued) != 0) fail("ioctl SIOCOUTQ");
        if (queued == 0) return;
        struct timespec t = {0, 50000};
        nanosleep(&t, NULL);
    }
}

static int exchanges(const char *addr, unsigned id, unsigned frames, uint64_t seed, size_t lo, size_t hi, int trickle) {
    int fd = open_connection(addr);
    if (fd < 0) fail("connect");
    report("connected 1\n");
    const int unix_socket = family_of(addr) == AF_UNIX;
    for (unsigned k = 0; k < frames; k++) {
        size_t len = lab6_length(seed, id, k, lo, hi);
        char *f = frame_of(len, seed, id, k);
        if (!trickle) {
            send_all(fd, f, HEADER + len);
        } else {
            sending_client = id;
            sending_frame = k;
            sending_length = HEADER + len;
            for (size_t b = 0; b < HEADER + len; b++) {
                sending_offset = b;
                send_all(fd, f + b, 1);
                if (unix_socket) wait_consumed(fd);
            }
        }
        sending_length = 0;
        check_reply(fd, f + HEADER, len, id, k);
        report("ok %u %u\n", id, k);
        free(f);
    }
    close(fd);
    report("done\n");
    return 0;
}

static int mega(const char *addr, size_t size, uint64_t seed) {
    progress_step = 16384;
    int fd = open_connection(addr);
    if (fd < 0) fail("connect");
    char *f = frame_of(size, seed, 0, 0);
    ssize_t n;
    while ((n = write(fd, f, HEADER + size)) < 0 && errno == EINTR) {}
    if (n < 0) fail("write");
    if ((size_t)n < HEADER + size) send_all(fd, f + n, HEADER + size - (size_t)n);
    report("sent %zu\n", size);
    check_reply(fd, f + HEADER, size, 0, 0);
    report("ok 0 0\n");
    close(fd);
    report("done\n");
    return 0;
}

/* The largest value of a sysctl file ("a b c": c), or fallback when it cannot be read. */
static long sysctl_max(const char *file, long fallback) {
    FILE *f = fopen(file, "re");
    long v[3] = {0, 0, 0};
    int n = f ? fscanf(f, "%ld %ld %ld", &v[0], &v[1], &v[2]) : 0;
    if (f) fclose(f);
    if (n < 1) return fallback;
    long most = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] > most) most = v[i];
    return most;
}

/* The most request and reply bytes the kernel can hold between this client (its buffers fixed at
 * client_buffer) and any server in this network namespace, whatever the server sets with
 * SO_SNDBUF/SO_RCVBUF or the kernel grows to: past it, a server that stops reading while it
 * blocks in a send can never get out. A TCP receive buffer grows to tcp_rmem's maximum, a send
 * buffer to tcp_wmem's; a socket option asks for up to twice core.rmem_max/wmem_max. On a UNIX
 * stream socket the bytes in flight are charged to the sender's send buffer. Unreadable files
 * count as 64 MiB each. */
static long kernel_buffer_bound(const char *addr, int client_buffer) {
    const long fallback = 64L << 20;
    const long opt_snd = 2 * sysctl_max("/proc/sys/net/core/wmem_max", fallback);
    const long opt_rcv = 2 * sysctl_max("/proc/sys/net/core/rmem_max", fallback);
    const long client = 2L * 2 * client_buffer;  /* its send and receive buffers, doubled */
    if (family_of(addr) == AF_UNIX) return client + opt_snd;
    const long tcp_snd = sysctl_max("/proc/sys/net/ipv4/tcp_wmem", fallback);
    const long tcp_rcv = sysctl_max("/proc/sys/net/ipv4/tcp_rmem", fallback);
    return client + (tcp_snd > opt_snd ? tcp_snd : opt_snd) + (tcp_rcv > opt_rcv ? tcp_rcv : opt_rcv);
}

/* At least `frames` requests, and more when the kernel's buffers could hold them all: a server
 * that blocks in send() while the client is still writing deadlocks whatever the buffers grew
 * to, so the verdict does not depend on how fast they grew. Frames are made again from the seed
 * to check the replies: tens of megabytes are never held at once. */
static int flood(const char *addr, unsigned frames, size_t size, uint64_t seed) {
    progress_step = 16384;
    enum { CLIENT_BUFFER = 64 << 10 };
    const long bound = kernel_buffer_bound(addr, CLIENT_BUFFER);
    const unsigned needed = (unsigned)(bound / (long)(HEADER + size)) + 3;
    if (needed > frames) frames = needed;
    report("flood %u %zu %ld\n", frames, size, bound);
    int fd = open_connection_with_buffers(addr, CLIENT_BUFFER);
    if (fd < 0) fail("connect");
    for (unsigned k = 0; k < frames; k++) {
        char *f = frame_of(size, seed, 0, k);
        send_all(fd, f, HEADER + size);
        free(f);
        report("sent %u\n", k);
    }
    for (unsigned k = 0; k < frames; k++) {
        char *f = frame_of(size, seed, 0, k);
        check_reply(fd, f + HEADER, size, 0, k);
        free(f);
        report("ok 0 %u\n", k);
    }
    close(fd);
    report("done\n");
    return 0;
}

struct swarm_client {
    int fd;
    unsigned k;          /* the frame in flight */
    char *frame;         /* its request */
    size_t len, sent;    /* request bytes sent so far */
    char *reply;
    size_t got;          /* reply bytes (header included) received so far */
    double since;        /* when this frame's request was sent */
    double longest;      /* longest wait for a reply, ms */
    int finished;
};

static void swarm_next(struct swarm_client *c, unsigned id, uint64_t seed) {
    free(c->frame);
    c->len = lab6_length(seed, id, c->k, 16, 512);
    c->frame = frame_of(c->len, seed, id, c->k);
    c->sent = 0;
    c->got = 0;
    c->reply = realloc(c->reply, HEADER + c->len);
}

static int swarm(const char *addr, unsigned clients, unsigned frames, uint64_t seed) {
    int silent = open_connection(addr);
    if (silent < 0) fail("connect");
    send_all(silent, "\0\0", 2);  /* half a header, then nothing */
    report("silent connected\n");
    struct swarm_client *c = calloc(clients, sizeof *c);
    struct pollfd *p = calloc(clients, sizeof *p);
    const double start = now_ms();
    for (unsigned i = 0; i < clients; i++) {
        c[i].fd = open_connection(addr);
        if (c[i].fd < 0) fail("connect");
        fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
        swarm_next(&c[i], i + 1, seed);
    }
    report("connected %u\n", clients);
    unsigned left = clients;
    while (left > 0) {
        const double t = now_ms();
        for (unsigned i = 0; i < clients; i++) {
            short ev = 0;
            if (!c[i].finished) ev = c[i].sent < HEADER + c[i].len ? POLLOUT : POLLIN;
            p[i] = (struct pollfd){.fd = c[i].finished ? -1 : c[i].fd, .events = ev};
            if (c[i].sent == 0 && c[i].since == 0) c[i].since = t;
        }
        if (poll(p, clients, -1) < 0) {
            if (errno == EINTR) continue;
            fail("poll");
        }
        for (unsigned i = 0; i < clients; i++) {
            struct swarm_client *s = &c[i];
            if (p[i].revents & POLLOUT) {
                ssize_t n = send(s->fd, s->frame + s->sent, HEADER + s->len - s->sent, MSG_NOSIGNAL);
                if (n < 0 && errno != EAGAIN && errno != EINTR) fail("send");
                if (n > 0) s->sent += (size_t)n;
            } else if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = recv(s->fd, s->reply + s->got, HEADER + s->len - s->got, 0);
                if (n < 0 && errno != EAGAIN && errno != EINTR) fail("recv");
                if (n == 0) {
                    report("closed %u %u %zu %zu\n", i + 1, s->k, s->len, s->got);
                    exit(1);
                }
                if (n > 0) s->got += (size_t)n;
                if (s->got == HEADER + s->len) {
                    uint32_t be;
                    memcpy(&be, s->reply, HEADER);
                    if (ntohl(be) != s->len) {
                        report("length %u %u %zu %u\n", i + 1, s->k, s->len, ntohl(be));
                        exit(1);
                    }
                    lab6_transform(s->frame + HEADER, s->len);
                    long at = lab6_first_difference(s->frame + HEADER, s->reply + HEADER, s->len);
                    if (at >= 0) {
                        report("differs %u %u %ld %d %d\n", i + 1, s->k, at, s->frame[HEADER + at], s->reply[HEADER + at]);
                        exit(1);
                    }
                    const double waited = now_ms() - s->since;
                    if (waited > s->longest) s->longest = waited;
                    s->since = now_ms();
                    if (++s->k == frames) {
                        s->finished = 1;
                        left--;
                        report("served %u %.0f\n", i + 1, s->longest);
                        close(s->fd);
                    } else {
                        swarm_next(s, i + 1, seed);
                    }
                }
            }
        }
    }
    report("done %u %.0f\n", clients, now_ms() - start);
    close(silent);
    return 0;
}

static int churn(const char *addr, unsigned count, uint64_t seed) {
    for (unsigned i = 0; i < count; i++) {
        int fd = open_connection(addr);
        if (fd < 0) fail("connect");
        if (i % 5 == 1) {  /* connects and leaves without a word */
        } else if (i % 5 == 3) {  /* half a header, then leaves */
            send_all(fd, "\0\0", 2);
        } else {
            size_t len = lab6_length(seed, i, 0, 1, 64);
            char *f = frame_of(len, seed, i, 0);
            send_all(fd, f, HEADER + len);
            check_reply(fd, f + HEADER, len, i, 0);
            free(f);
        }
        close(fd);
    }
    report("done %u\n", count);
    return 0;
}

static int midframe(const char *addr) {
    int fd = open_connection(addr);
    if (fd < 0) fail("connect");
    uint32_t be = htonl(1000);
    send_all(fd, &be, HEADER);
    send_all(fd, "only ten b", 10);
    close(fd);
    report("done\n");
    return 0;
}

static int hangup(const char *addr, size_t size, uint64_t seed) {
    int fd = open_connection(addr);
    if (fd < 0) fail("connect");
    char *f = frame_of(size, seed, 0, 0);
    send_all(fd, f, HEADER + size);
    close(fd);  /* the reply (as large) cannot all be in flight: the server sends to a closed peer */
    report("done\n");
    return 0;
}

static int reset(const char *addr, uint64_t seed) {
    int fd = open_connection(addr);
    if (fd < 0) fail("connect");
    const size_t len = 1000;
    char *f = frame_of(len, seed, 0, 0);
    send_all(fd, f, HEADER + len);
    if (family_of(addr) == AF_UNIX) {
        /* The whole reply in our receive queue, unread: closing now resets the connection. */
        int queued = 0;
        while (queued < (int)(HEADER + len)) {
            struct pollfd w = {.fd = fd, .events = POLLIN};
            poll(&w, 1, -1);
            if (ioctl(fd, SIOCINQ, &queued) != 0) fail("ioctl SIOCINQ");
            if (queued < (int)(HEADER + len)) {
                struct timespec t = {0, 100000};
                nanosleep(&t, NULL);
            }
        }
    } else {
        struct linger l = {.l_onoff = 1, .l_linger = 0};  /* close sends RST */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(fd);
    report("done\n");
    return 0;
}

static int stop(const char *addr) {
    int fd = open_connection(addr);
    if (fd < 0) fail("connect");
    send_all(fd, "\0\0\0\0", HEADER);
    uint32_t be;
    recv_all(fd, &be, HEADER, 0, 0, 0);
    if (ntohl(be) != 0) {
        report("length 0 0 0 %u\n", ntohl(be));
        return 1;
    }
    close(fd);
    report("done\n");
    return 0;
}

static int stale(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof un) != 0 || listen(fd, 1) != 0) fail("bind");
    chmod(path, 0666);
    report("done\n");
    return 0;  /* exits listening, never unlinks: the file stays, nobody listens */
}

int main(int argc, char **argv) {
    fcntl(CTL, F_SETFD, FD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    if (argc < 3) {
        fprintf(stderr, "socktool MODE ARGS (see the source)\n");
        return 2;
    }
    const char *mode = argv[1], *addr = argv[2];
#define ARG(i) (argc > (i) ? argv[i] : "0")
    uint64_t u3 = strtoull(ARG(3), NULL, 0), u4 = strtoull(ARG(4), NULL, 0), u5 = strtoull(ARG(5), NULL, 0);
    if (!strcmp(mode, "echo") || !strcmp(mode, "trickle"))
        return exchanges(addr, (unsigned)u3, (unsigned)u4, u5, strtoul(ARG(6), NULL, 0), strtoul(ARG(7), NULL, 0),
                         !strcmp(mode, "trickle"));
    if (!strcmp(mode, "mega")) return mega(addr, u3, u4);
    if (!strcmp(mode, "flood")) return flood(addr, (unsigned)u3, u4, u5);
    if (!strcmp(mode, "swarm")) return swarm(addr, (unsigned)u3, (unsigned)u4, u5);
    if (!strcmp(mode, "churn")) return churn(addr, (unsigned)u3, u4);
    if (!strcmp(mode, "midframe")) return midframe(addr);
    if (!strcmp(mode, "hangup")) return hangup(addr, u3, u4);
    if (!strcmp(mode, "reset")) return reset(addr, u3);
    if (!strcmp(mode, "stop")) return stop(addr);
    if (!strcmp(mode, "stale")) return stale(addr);
    if (!strcmp(mode, "exists")) {
        struct stat st;
        puts(lstat(addr, &st) == 0 ? "exists" : "absent");
        return 0;
    }
    if (!strcmp(mode, "unlink")) {  /* the owner's own files: another uid's are left for its turn */
        for (int i = 2; i < argc; i++) {
            struct stat st;
            if (lstat(argv[i], &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid()) unlink(argv[i]);
        }
        return 0;
    }
    fprintf(stderr, "socktool: unknown mode %s\n", mode);
    return 2;
}
