/* Lab 4 sample: ring_get takes its slot under the mutex but copies the record out after giving the slot back. */
#define _GNU_SOURCE
#include "shmring.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const size_t ring_bytes = sizeof(struct ring_shared);

/* sem_wait that never lets the caller go on without the semaphore: EINTR waits again. */
static int wait_for(sem_t *s) {
    while (sem_wait(s) != 0)
        if (errno != EINTR) return -1;
    return 0;
}

/* Unmaps and closes what a failed call made, keeping the failing call's errno. */
static int undo(int fd, void *map, const char *unlink_name) {
    const int err = errno;
    if (map != NULL && map != MAP_FAILED) munmap(map, ring_bytes);
    if (fd >= 0) close(fd);
    if (unlink_name != NULL) shm_unlink(unlink_name);
    errno = err;
    return -1;
}

int ring_create(struct ring *r, const char *name, unsigned capacity) {
    if (capacity < 1 || capacity > RING_MAX_CAPACITY) {
        errno = EINVAL;
        return -1;
    }
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
    if (fd < 0 && errno == EEXIST) {  /* a crashed run's object: never reuse it */
        if (shm_unlink(name) != 0 && errno != ENOENT) return -1;
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
    }
    if (fd < 0) return -1;
    if (fchmod(fd, 0666) != 0 || ftruncate(fd, (off_t)ring_bytes) != 0) return undo(fd, NULL, name);
    struct ring_shared *s = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s == MAP_FAILED) return undo(fd, NULL, name);
    s->capacity = capacity;
    s->head = s->tail = s->count = 0;
    if (sem_init(&s->mutex, 1, 1) != 0 || sem_init(&s->empty, 1, capacity) != 0 || sem_init(&s->full, 1, 0) != 0)
        return undo(fd, s, name);
    __atomic_store_n(&s->magic, RING_MAGIC, __ATOMIC_RELEASE);
    r->shm = s;
    r->fd = fd;
    return 0;
}

int ring_open(struct ring *r, const char *name) {
    int fd = shm_open(name, O_RDWR, 0);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) return undo(fd, NULL, NULL);
    if ((size_t)st.st_size < ring_bytes) {  /* its creator has not sized it yet */
        errno = ENOENT;
        return undo(fd, NULL, NULL);
    }
    struct ring_shared *s = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s == MAP_FAILED) return undo(fd, NULL, NULL);
    if (__atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) != RING_MAGIC) {  /* not initialized yet */
        errno = ENOENT;
        return undo(fd, s, NULL);
    }
    r->shm = s;
    r->fd = fd;
    return 0;
}

int ring_put(struct ring *r, const struct ring_record *rec) {
    struct ring_shared *s = r->shm;
    if (wait_for(&s->empty) != 0) return -1;
    if (wait_for(&s->mutex) != 0) {
        const int err = errno;
        sem_post(&s->empty);
        errno = err;
        return -1;
    }
    s->slots[s->head % RING_MAX_CAPACITY] = *rec;
    s->head = (s->head + 1) % s->capacity;
    s->count++;
    sem_post(&s->mutex);
    sem_post(&s->full);
    return 0;
}

int ring_get(struct ring *r, struct ring_record *rec) {
    struct ring_shared *s = r->shm;
    if (wait_for(&s->full) != 0) return -1;
    if (wait_for(&s->mutex) != 0) {
        const int err = errno;
        sem_post(&s->full);
        errno = err;
        return -1;
    }
    const uint32_t slot = s->tail;
    s->tail = (s->tail + 1) % s->capacity;
    s->count--;
    sem_post(&s->mutex);
    sem_post(&s->empty);
    *rec = s->slots[slot % RING_MAX_CAPACITY];  /* a producer may be writing this slot already */
    return 0;
}

int ring_close(struct ring *r) {
    int rc = 0;
    if (r->shm != NULL && munmap(r->shm, ring_bytes) != 0) rc = -1;
    r->shm = NULL;
    if (r->fd >= 0 && close(r->fd) != 0) rc = -1;
    r->fd = -1;
    return rc;
}

int ring_destroy(const char *name) { return shm_unlink(name); }
