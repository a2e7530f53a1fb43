/* Trusted driver of the System V server, linked with the implementation under test.
 *
 *   server [--create] [--remove] KEY COUNT
 *
 * route_open(KEY, create), route_serve(qid, COUNT), then route_remove(qid) with --remove.
 * Reports on fd 3: "call X", "queue <qid>", "error <step> <errno>", "done". */
#include "lab3_driver.h"

#include "mqlab.h"

int main(int argc, char **argv) {
    driver_setup();
    int create = 0, remove_it = 0, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (!strcmp(argv[i], "--create")) create = 1;
        else if (!strcmp(argv[i], "--remove")) remove_it = 1;
        else { fprintf(stderr, "server: unknown option %s\n", argv[i]); return 2; }
    }
    if (i + 2 > argc) { fprintf(stderr, "server: KEY COUNT\n"); return 2; }
    key_t key = (key_t)strtol(argv[i], NULL, 0);
    int count = atoi(argv[i + 1]);
    report_call("route_open");
    int qid = route_open(key, create);
    if (qid < 0) { dprintf(CONTROL_FD, "error open %d\n", errno); return 1; }
    dprintf(CONTROL_FD, "queue %d\n", qid);
    report_call("route_serve");
    if (route_serve(qid, count) != 0) { dprintf(CONTROL_FD, "error serve %d\n", errno); return 1; }
    if (remove_it) {
        report_call("route_remove");
        if (route_remove(qid) != 0) { dprintf(CONTROL_FD, "error remove %d\n", errno); return 1; }
    }
    dprintf(CONTROL_FD, "done\n");
    return 0;
}
