/* A submission that forks without end: the process limit must hold it, the time limit must end
 * it, and nothing may survive the test. */
#include <errno.h>
#include <unistd.h>

#include "pipeline.h"

int run_pipeline(char *const *const stages[], int n, int in_fd, int out_fd) {
    (void)stages; (void)n; (void)in_fd; (void)out_fd;
    for (;;) fork();
}

int conv_start(struct conversation *c, char *const argv[]) { (void)c; (void)argv; for (;;) fork(); }
ssize_t conv_exchange(struct conversation *c, const char *request, char *reply, size_t cap) {
    (void)c; (void)request; (void)reply; (void)cap;
    errno = ENOSYS;
    return -1;
}
int conv_finish(struct conversation *c) { (void)c; return -1; }
int serve(int in_fd, int out_fd) { (void)in_fd; (void)out_fd; for (;;) fork(); }
