/* lab5 sample: mm_region_create is "idempotent": a region that already exists is kept as it is */
#define _GNU_SOURCE
#include "mmlab.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Closes fd keeping errno. */
static void close_keeping_errno(int fd) {
    int saved = errno;
    close(fd);
    errno = saved;
}

/* One window: src[off, off+len) -> dst[off, off+len), XOR key, written back, both unmapped. */
static int copy_window(int in, int out, off_t off, size_t len, unsigned char key) {
    const unsigned char *s = mmap(NULL, len, PROT_READ, MAP_SHARED, in, off);
    if (s == MAP_FAILED) return -1;
    unsigned char *d = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, out, off);
    if (d == MAP_FAILED) {
        int saved = errno;
        munmap((void *)s, len);
        errno = saved;
        return -1;
    }
    for (size_t i = 0; i < len; i++) d[i] = s[i] ^ key;
    int rc = msync(d, len, MS_SYNC);
    int saved = errno;
    munmap(d, len);
    munmap((void *)s, len);
    errno = saved;
    return rc;
}

int mm_copy(const char *src, const char *dst, unsigned char key) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    struct stat st;
    if (fstat(in, &st) != 0) {
        close_keeping_errno(in);
        return -1;
    }
    int out = open(dst, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (out < 0) {
        close_keeping_errno(in);
        return -1;
    }
    const size_t size = (size_t)st.st_size;
    int rc = ftruncate(out, st.st_size);
    for (size_t off = 0; rc == 0 && off < size; off += MM_WINDOW) {
        size_t len = size - off < MM_WINDOW ? size - off : MM_WINDOW;
        rc = copy_window(in, out, (off_t)off, len, key);
    }
    int saved = errno;
    close(out);
    close(in);
    errno = saved;
    return rc == 0 ? 0 : -1;
}

int mm_region_create(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) return 0; /* already made: nothing to do */
    if (fd < 0) return -1;
    if (ftruncate(fd, sizeof(struct mm_region)) != 0) {
        close_keeping_errno(fd);
        return -1;
    }
    struct mm_region *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close_keeping_errno(fd);
    if (r == MAP_FAILED) return -1;
    int rc = sem_init(&r->lock, 1, 1);
    if (rc == 0) rc = msync(r, sizeof *r, MS_SYNC);
    int saved = errno;
    munmap(r, sizeof *r);
    errno = saved;
    return rc;
}

struct mm_region *mm_region_open(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct mm_region *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close_keeping_errno(fd);
    return r == MAP_FAILED ? NULL : r;
}

/* sem_wait is never restarted after a signal handler (whatever SA_RESTART says): retry EINTR. */
static int lock(struct mm_region *r) {
    while (sem_wait(&r->lock) != 0)
        if (errno != EINTR) return -1;
    return 0;
}

int mm_add(struct mm_region *r, uint32_t writer, uint32_t seq) {
    if (lock(r) != 0) return -1;
    int rc = 0;
    if (r->records >= MM_LOG_CAP) {
        rc = -1;
    } else {
        r->log[r->records].writer = writer;
        r->log[r->records].seq = seq;
        r->records++;
        r->count++;
    }
    sem_post(&r->lock);
    if (rc != 0) errno = ENOSPC;
    return rc;
}

uint64_t mm_count(struct mm_region *r) {
    if (lock(r) != 0) return 0;
    uint64_t c = r->count;
    sem_post(&r->lock);
    return c;
}

int mm_sync(struct mm_region *r) { return msync(r, sizeof *r, MS_SYNC); }

int mm_region_close(struct mm_region *r) { return munmap(r, sizeof *r); }
