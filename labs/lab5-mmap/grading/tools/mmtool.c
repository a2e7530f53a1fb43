/* lab5's trusted tool (never linked with student code).
 *
 *   mmtool hold PATH
 *
 * Maps the region PATH, takes its lock (sem_wait, EINTR retried), reads count, reports
 * "held <count>" on fd 3 and stops (SIGSTOP). Continued, it stores count + 1 (a read-modify-write
 * across the stop: any update made meanwhile without the lock is lost), appends the record
 * {MMTOOL_WRITER, 0}, writes the region back, releases the lock and exits 0. Exit 1 on failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmlab.h"

enum { MMTOOL_WRITER = 999 };

int main(int argc, char **argv) {
    if (argc != 3 || strcmp(argv[1], "hold") != 0) {
        fprintf(stderr, "usage: mmtool hold PATH\n");
        return 2;
    }
    fcntl(3, F_SETFD, FD_CLOEXEC);
    int fd = open(argv[2], O_RDWR | O_CLOEXEC);
    if (fd < 0) { perror("mmtool: open"); return 1; }
    struct mm_region *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (r == MAP_FAILED) { perror("mmtool: mmap"); return 1; }
    while (sem_wait(&r->lock) != 0)
        if (errno != EINTR) { perror("mmtool: sem_wait"); return 1; }
    const uint64_t count = r->count;
    dprintf(3, "held %" PRIu64 "\n", count);
    raise(SIGSTOP);
    r->count = count + 1;
    if (r->records < MM_LOG_CAP) {
        r->log[r->records].writer = MMTOOL_WRITER;
        r->log[r->records].seq = 0;
        r->records++;
    }
    msync(r, sizeof *r, MS_SYNC);
    sem_post(&r->lock);
    munmap(r, sizeof *r);
    return 0;
}
