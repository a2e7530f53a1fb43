/* lab5's trusted tool (never linked with student code).
 *
 *   mmtool hold PATH
 *   mmtool stale PATH
 *
 * Maps the region PATH, takes its lock (sem_wait, EINTR retried), reads count, reports
 * "held <count>" on fd 3 and stops (SIGSTOP). Continued, it stores count + 1 (a read-modify-write
 * across the stop: any update made meanwhile without the lock is lost), appends the record
 * {MMTOOL_WRITER, 0}, writes the region back, releases the lock and exits 0. Exit 1 on failure.
 * stale: leaves PATH as a crashed run would: count STALE_COUNT, one record {STALE_WRITER, 0}, and
 * the lock taken (value 0) by a process that is gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmlab.h"

enum { MMTOOL_WRITER = 999, STALE_WRITER = 777, STALE_COUNT = 123 };

static int stale(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || ftruncate(fd, sizeof(struct mm_region)) != 0) { perror("mmtool: stale"); return 1; }
    struct mm_region *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (r == MAP_FAILED) { perror("mmtool: mmap"); return 1; }
    sem_init(&r->lock, 1, 0);
    r->count = STALE_COUNT;
    r->records = 1;
    r->log[0].writer = STALE_WRITER;
    r->log[0].seq = 0;
    msync(r, sizeof *r, MS_SYNC);
    munmap(r, sizeof *r);
    return 0;
}

int main(int argc, char **argv) {
    umask(0); /* the region is every uid's to open */
    if (argc == 3 && strcmp(argv[1], "stale") == 0) return stale(argv[2]);
    if (argc != 3 || strcmp(argv[1], "hold") != 0) {
        fprintf(stderr, "usage: mmtool hold|stale PATH\n");
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
