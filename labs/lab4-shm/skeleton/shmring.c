/* Lab 4: shared memory. Implement the functions of shmring.h (read README.md first).
 * Every function below is a stub that fails with ENOSYS: replace each TODO. */
#define _GNU_SOURCE
#include "shmring.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int ring_create(struct ring *r, const char *name, unsigned capacity) {
    /* TODO: check capacity; shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666), and on EEXIST
     * shm_unlink the crashed run's object and try again; ftruncate to sizeof(struct ring_shared);
     * mmap MAP_SHARED; head = tail = count = 0; sem_init(&mutex, 1, 1), sem_init(&empty, 1,
     * capacity), sem_init(&full, 1, 0); magic = RING_MAGIC last. On any failure undo what you made
     * (munmap, close, shm_unlink) and return -1 with the failing call's errno. */
    (void)r; (void)name; (void)capacity;
    errno = ENOSYS;
    return -1;
}

int ring_open(struct ring *r, const char *name) {
    /* TODO: shm_open(name, O_RDWR) (never O_CREAT); fstat: too small means not ready (ENOENT);
     * mmap; magic != RING_MAGIC means not ready (ENOENT). Undo what you made before returning -1. */
    (void)r; (void)name;
    errno = ENOSYS;
    return -1;
}

int ring_put(struct ring *r, const struct ring_record *rec) {
    /* TODO: wait on empty, then mutex (retry EINTR: the semaphore was not taken); copy *rec into
     * slots[head]; advance head, count; post mutex, then full. */
    (void)r; (void)rec;
    errno = ENOSYS;
    return -1;
}

int ring_get(struct ring *r, struct ring_record *rec) {
    /* TODO: wait on full, then mutex (retry EINTR); copy slots[tail] into *rec; advance tail,
     * count; post mutex, then empty. */
    (void)r; (void)rec;
    errno = ENOSYS;
    return -1;
}

int ring_close(struct ring *r) {
    /* TODO: munmap the ring and close its descriptor. */
    (void)r;
    errno = ENOSYS;
    return -1;
}

int ring_destroy(const char *name) {
    /* TODO: shm_unlink(name). */
    (void)name;
    errno = ENOSYS;
    return -1;
}
