/* Trusted driver of a client, linked with the implementation under test.
 *
 *   client [--stop] [--refused] [--spare-fds N] ADDRESS ID FRAMES SEED MIN MAX
 *
 * sock_connect, then FRAMES exchanges: frame k (seeded length in [MIN, MAX], lab6_payload) with
 * sock_send_frame, its reply with sock_recv_frame, compared with the transform of what was sent.
 * --stop: then an empty frame, and its empty reply (the server stops). --refused: only the
 * connect, which must fail (nobody listens, or --spare-fds 0 leaves socket() no descriptor), then
 * a gate: the grader counts the sockets the failed call left open. Reports on fd 3: "call X", "connected",
 * "ok <id> <k>", "differs <id> <k> <offset> <expected byte> <got byte>",
 * "length <id> <k> <sent> <got>",
 * "error <step> <errno>", "done". */
#include "driver_kit.h"
#include "lab6_driver.h"

#include <unistd.h>

#include "socklab.h"

int main(int argc, char **argv) {
    ipcg_control_setup();
    int stop = 0, refused = 0, spare_fds = -1, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (!strcmp(argv[i], "--stop")) stop = 1;
        else if (!strcmp(argv[i], "--refused")) refused = 1;
        else if (!strcmp(argv[i], "--spare-fds") && i + 1 < argc) spare_fds = atoi(argv[++i]);
        else { fprintf(stderr, "client: unknown option %s\n", argv[i]); return 2; }
    }
    struct sock_endpoint ep;
    if (i + 6 > argc || lab6_parse_address(argv[i], &ep.family, &ep.path, &ep.port) != 0) {
        fprintf(stderr, "client: [--stop] [--refused] [--spare-fds N] ADDRESS ID FRAMES SEED MIN MAX\n");
        return 2;
    }
    unsigned id = (unsigned)atoi(argv[i + 1]), frames = (unsigned)atoi(argv[i + 2]);
    uint64_t seed = strtoull(argv[i + 3], NULL, 0);
    size_t lo = strtoul(argv[i + 4], NULL, 0), hi = strtoul(argv[i + 5], NULL, 0);
    if (spare_fds >= 0) ipcg_leave_spare_fds(spare_fds);
    ipcg_report_call("sock_connect");
    int fd = sock_connect(&ep);
    if (fd < 0) {
        dprintf(IPCG_CONTROL_FD, "error connect %d\n", errno);
        if (refused) ipcg_gate();
        return refused ? 0 : 1;
    }
    dprintf(IPCG_CONTROL_FD, "connected\n");
    if (refused) { close(fd); return 0; }
    char *sent = malloc(hi + 1), *want = malloc(hi + 1), *got = malloc(hi + 64);
    for (unsigned k = 0; k < frames; k++) {
        size_t len = lab6_length(seed, id, k, lo, hi);
        lab6_payload(sent, len, seed, id, k);
        memcpy(want, sent, len);
        lab6_transform(want, len);
        ipcg_report_call("sock_send_frame");
        if (sock_send_frame(fd, sent, len) != 0) { dprintf(IPCG_CONTROL_FD, "error send %d\n", errno); return 1; }
        ipcg_report_call("sock_recv_frame");
        ssize_t n = sock_recv_frame(fd, got, hi + 64);
        if (n < 0) { dprintf(IPCG_CONTROL_FD, "error recv %d\n", errno); return 1; }
        if ((size_t)n != len) { dprintf(IPCG_CONTROL_FD, "length %u %u %zu %zd\n", id, k, len, n); return 1; }
        long at = lab6_first_difference(want, got, len);
        if (at >= 0) {
            dprintf(IPCG_CONTROL_FD, "differs %u %u %ld %d %d\n", id, k, at, want[at], got[at]);
            return 1;
        }
        dprintf(IPCG_CONTROL_FD, "ok %u %u\n", id, k);
    }
    if (stop) {
        ipcg_report_call("sock_send_frame");
        if (sock_send_frame(fd, "", 0) != 0) { dprintf(IPCG_CONTROL_FD, "error send %d\n", errno); return 1; }
        ipcg_report_call("sock_recv_frame");
        ssize_t n = sock_recv_frame(fd, got, 64);
        if (n != 0) { dprintf(IPCG_CONTROL_FD, "error recv %d\n", n < 0 ? errno : EPROTO); return 1; }
        dprintf(IPCG_CONTROL_FD, "stopped\n");
    }
    close(fd);
    dprintf(IPCG_CONTROL_FD, "done\n");
    return 0;
}
