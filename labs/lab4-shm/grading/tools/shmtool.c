/* lab4's trusted helper: makes and removes the shared-memory objects a test needs around the
 * roles, and reads a ring's state for the report. Runs as the reference's uid, or as the
 * student's where it plays the student's earlier (crashed) run.
 *
 *   shmtool unlink NAME        shm_unlink; exit 0 (removed or absent), 3 (owned by another uid)
 *   shmtool embryo NAME SIZE   a ring whose creator is still at work: the object exists, SIZE
 *                              bytes long (0: not sized yet; "full": sized), magic not set
 *   shmtool stale NAME         a ring left by a crashed run: ready, capacity 4, three old
 *                              records of producer 77 waiting
 *   shmtool state NAME         prints "state magic capacity head tail count mutex empty full" */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../drivers/lab4_driver.h"

enum { kNotMine = 3, kStaleProducer = 77, kStaleRecords = 3, kStaleCapacity = 4 };

static struct ring_shared *map_new(const char *name, size_t bytes) {
    umask(0);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
    if (fd < 0 || ftruncate(fd, (off_t)bytes) != 0) {
        perror("shmtool: shm_open/ftruncate");
        exit(1);
    }
    if (bytes < sizeof(struct ring_shared)) {
        close(fd);
        return NULL;
    }
    struct ring_shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (s == MAP_FAILED) {
        perror("shmtool: mmap");
        exit(1);
    }
    return s;
}

static int stale(const char *name) {
    struct ring_shared *s = map_new(name, sizeof(struct ring_shared));
    s->capacity = kStaleCapacity;
    for (unsigned i = 0; i < kStaleRecords; i++) make_record(&s->slots[i], kStaleProducer, i);
    s->head = kStaleRecords;
    s->tail = 0;
    s->count = kStaleRecords;
    sem_init(&s->mutex, 1, 1);
    sem_init(&s->empty, 1, kStaleCapacity - kStaleRecords);
    sem_init(&s->full, 1, kStaleRecords);
    s->magic = RING_MAGIC;
    return 0;
}

static int state(const char *name) {
    int fd = shm_open(name, O_RDONLY, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        printf("state absent %d\n", errno);
        return 0;
    }
    if ((size_t)st.st_size < sizeof(struct ring_shared)) {
        printf("state small %lld\n", (long long)st.st_size);
        return 0;
    }
    struct ring_shared *s = mmap(NULL, sizeof *s, PROT_READ, MAP_SHARED, fd, 0);
    if (s == MAP_FAILED) return 1;
    int m = -1, e = -1, f = -1;
    sem_getvalue(&s->mutex, &m);
    sem_getvalue(&s->empty, &e);
    sem_getvalue(&s->full, &f);
    printf("state %#x %u %u %u %u %d %d %d\n", s->magic, s->capacity, s->head, s->tail, s->count, m, e, f);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: shmtool unlink|embryo|stale|state NAME [BYTES]\n");
        return 2;
    }
    const char *cmd = argv[1], *name = argv[2];
    if (!strcmp(cmd, "unlink")) {
        if (shm_unlink(name) == 0 || errno == ENOENT) return 0;
        return errno == EACCES || errno == EPERM ? kNotMine : 1;
    }
    if (!strcmp(cmd, "embryo") && argc > 3) {
        const size_t bytes = strcmp(argv[3], "full") ? (size_t)atol(argv[3]) : sizeof(struct ring_shared);
        struct ring_shared *s = map_new(name, bytes);
        if (s) s->magic = 0;
        return 0;
    }
    if (!strcmp(cmd, "stale")) return stale(name);
    if (!strcmp(cmd, "state")) return state(name);
    fprintf(stderr, "shmtool: unknown command %s\n", cmd);
    return 2;
}
