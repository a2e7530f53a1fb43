/* A submission stuck in an endless loop: it must be stopped at the time limit, score 0 on the
 * test, and leave nothing running. */
#include <errno.h>

#include "pipeline.h"

static volatile unsigned long spins;

int run_pipeline(char *const *const stages[], int n, int in_fd, int out_fd) {
    (void)stages; (void)n; (void)in_fd; (void)out_fd;
    for (;;) spins++;
}

int conv_start(struct conversation *c, char *const argv[]) { (void)c; (void)argv; for (;;) spins++; }
ssize_t conv_exchange(struct conversation *c, const char *request, char *reply, size_t cap) {
    (void)c; (void)request; (void)reply; (void)cap;
    errno = ENOSYS;
    return -1;
}
int conv_finish(struct conversation *c) { (void)c; return -1; }
int serve(int in_fd, int out_fd) { (void)in_fd; (void)out_fd; for (;;) spins++; }
