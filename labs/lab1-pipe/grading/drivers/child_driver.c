/* Trusted driver for the child role of the conversation, linked with the implementation under
 * test: serves requests on stdin, replies on stdout.
 *
 *   child [--nonblocking-out]
 *
 * --nonblocking-out makes stdout non-blocking first, so a reply larger than the pipe buffer
 * meets short writes and EAGAIN, which serve() must handle. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>

#include "pipeline.h"

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--nonblocking-out") == 0) {
        int flags = fcntl(1, F_GETFL);
        if (flags != -1) fcntl(1, F_SETFL, flags | O_NONBLOCK);
    }
    return serve(0, 1) == 0 ? 0 : 1;
}
