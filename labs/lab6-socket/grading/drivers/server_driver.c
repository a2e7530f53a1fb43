/* Trusted driver of the server, linked with the implementation under test.
 *
 *   server [--eintr] [--listen-only] [--spare-fds N] ADDRESS   (ADDRESS: unix:PATH or tcp:PORT)
 *
 * sock_listen, sock_serve until a client asks it to stop, then sock_unlisten. --listen-only: only
 * the sock_listen, which must fail (--spare-fds 0 leaves socket() no descriptor; a path in a
 * folder that does not exist fails bind), then a gate: the grader counts the sockets the failed
 * call left open; exits 0. SIGPIPE keeps its
 * default action: a send to a gone client must not kill the server (MSG_NOSIGNAL).
 * Reports on fd 3: "call X", "listening <fd>", "served", "error <step> <errno>", "done". */
#include "driver_kit.h"
#include "lab6_driver.h"

#include "socklab.h"

int main(int argc, char **argv) {
    ipcg_control_setup();
    int i = 1, listen_only = 0, spare_fds = -1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (!strcmp(argv[i], "--eintr")) ipcg_catch_sigusr1_without_restart();
        else if (!strcmp(argv[i], "--listen-only")) listen_only = 1;
        else if (!strcmp(argv[i], "--spare-fds") && i + 1 < argc) spare_fds = atoi(argv[++i]);
        else { fprintf(stderr, "server: unknown option %s\n", argv[i]); return 2; }
    }
    struct sock_endpoint ep;
    if (i >= argc || lab6_parse_address(argv[i], &ep.family, &ep.path, &ep.port) != 0) {
        fprintf(stderr, "server: [--eintr] [--listen-only] [--spare-fds N] unix:PATH|tcp:PORT\n");
        return 2;
    }
    if (spare_fds >= 0) ipcg_leave_spare_fds(spare_fds);
    ipcg_report_call("sock_listen");
    int fd = sock_listen(&ep);
    if (fd < 0) {
        dprintf(IPCG_CONTROL_FD, "error listen %d\n", errno);
        if (listen_only) ipcg_gate();
        return listen_only ? 0 : 1;
    }
    dprintf(IPCG_CONTROL_FD, "listening %d\n", fd);
    if (listen_only) {
        ipcg_report_call("sock_unlisten");
        sock_unlisten(fd, &ep);
        dprintf(IPCG_CONTROL_FD, "done\n");
        return 0;
    }
    ipcg_report_call("sock_serve");
    if (sock_serve(fd) != 0) { dprintf(IPCG_CONTROL_FD, "error serve %d\n", errno); return 1; }
    dprintf(IPCG_CONTROL_FD, "served\n");
    ipcg_report_call("sock_unlisten");
    if (sock_unlisten(fd, &ep) != 0) { dprintf(IPCG_CONTROL_FD, "error unlisten %d\n", errno); return 1; }
    dprintf(IPCG_CONTROL_FD, "done\n");
    return 0;
}
