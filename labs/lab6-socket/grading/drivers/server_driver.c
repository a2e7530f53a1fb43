/* Trusted driver of the server, linked with the implementation under test.
 *
 *   server [--eintr] ADDRESS          (ADDRESS: unix:PATH or tcp:PORT)
 *
 * sock_listen, sock_serve until a client asks it to stop, then sock_unlisten. SIGPIPE keeps its
 * default action: a send to a gone client must not kill the server (MSG_NOSIGNAL).
 * Reports on fd 3: "call X", "listening <fd>", "served", "error <step> <errno>", "done". */
#include "driver_kit.h"
#include "lab6_driver.h"

#include "socklab.h"

int main(int argc, char **argv) {
    ipcg_control_setup();
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (!strcmp(argv[i], "--eintr")) ipcg_catch_sigusr1_without_restart();
        else { fprintf(stderr, "server: unknown option %s\n", argv[i]); return 2; }
    }
    struct sock_endpoint ep;
    if (i >= argc || lab6_parse_address(argv[i], &ep.family, &ep.path, &ep.port) != 0) {
        fprintf(stderr, "server: [--eintr] unix:PATH|tcp:PORT\n");
        return 2;
    }
    ipcg_report_call("sock_listen");
    int fd = sock_listen(&ep);
    if (fd < 0) { dprintf(IPCG_CONTROL_FD, "error listen %d\n", errno); return 1; }
    dprintf(IPCG_CONTROL_FD, "listening %d\n", fd);
    ipcg_report_call("sock_serve");
    if (sock_serve(fd) != 0) { dprintf(IPCG_CONTROL_FD, "error serve %d\n", errno); return 1; }
    dprintf(IPCG_CONTROL_FD, "served\n");
    ipcg_report_call("sock_unlisten");
    if (sock_unlisten(fd, &ep) != 0) { dprintf(IPCG_CONTROL_FD, "error unlisten %d\n", errno); return 1; }
    dprintf(IPCG_CONTROL_FD, "done\n");
    return 0;
}
