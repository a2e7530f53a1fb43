/* lab5 sample: a correct design different from the reference. Windows of 64 KiB (smaller than
 * MM_WINDOW), the source mapped MAP_PRIVATE, one destination msync at the end of each window
 * with MS_SYNC via a helper, ENOMEM passed up untouched; the region opened through fstat's size
 * check, the lock taken with a loop on sem_wait that also survives EINTR. */
#define _GNU_SOURCE
#include "mmlab.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { STEP = 64 * 1024 };

struct maps { void *s, *d; size_t len; };

static void unmap_all(struct maps *m) {
    int e = errno;
    if (m->s && m->s != MAP_FAILED) munmap(m->s, m->len);
    if (m->d && m->d != MAP_FAILED) munmap(m->d, m->len);
    m->s = m->d = NULL;
    errno = e;
}

int mm_copy(const char *src, const char *dst, unsigned char key) {
    int rc = -1, e = 0;
    int in = open(src, O_RDONLY), out = -1;
    struct stat st;
    if (in < 0) return -1;
    if (fstat(in, &st) < 0) goto done;
    out = open(dst, O_CREAT | O_TRUNC | O_RDWR, 0666);
    if (out < 0) goto done;
    if (ftruncate(out, st.st_size) < 0) goto done;
    off_t pos = 0;
    while (pos < st.st_size) {
        struct maps m = {NULL, NULL, (size_t)(st.st_size - pos < STEP ? st.st_size - pos : STEP)};
        m.s = mmap(NULL, m.len, PROT_READ, MAP_PRIVATE, in, pos);
        if (m.s == MAP_FAILED) goto done;
        m.d = mmap(NULL, m.len, PROT_WRITE | PROT_READ, MAP_SHARED, out, pos);
        if (m.d == MAP_FAILED) { unmap_all(&m); goto done; }
        const unsigned char *a = m.s;
        unsigned char *b = m.d;
        size_t i = 0;
        for (; i + 8 <= m.len; i += 8) {
            uint64_t w;
            memcpy(&w, a + i, 8);
            w ^= 0x0101010101010101ull * key;
            memcpy(b + i, &w, 8);
        }
        for (; i < m.len; i++) b[i] = a[i] ^ key;
        if (msync(m.d, m.len, MS_SYNC) < 0) { unmap_all(&m); goto done; }
        unmap_all(&m);
        pos += (off_t)m.len;
    }
    rc = 0;
done:
    e = errno;
    if (out >= 0) close(out);
    close(in);
    errno = e;
    return rc;
}

int mm_region_create(const char *path) {
    int fd = open(path, O_CREAT | O_RDWR, 0666);
    if (fd < 0) return -1;
    struct mm_region *r = MAP_FAILED;
    if (ftruncate(fd, 0) == 0 && ftruncate(fd, sizeof *r) == 0)
        r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (r == MAP_FAILED) { errno = e; return -1; }
    int rc = sem_init(&r->lock, 1, 1) == 0 && msync(r, sizeof *r, MS_SYNC) == 0 ? 0 : -1;
    e = errno;
    munmap(r, sizeof *r);
    errno = e;
    return rc;
}

struct mm_region *mm_region_open(const char *path) {
    int fd = open(path, O_RDWR);
    if (fd < 0) return NULL;
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0) {
        if ((size_t)st.st_size < sizeof(struct mm_region)) errno = EINVAL;
        else p = mmap(NULL, sizeof(struct mm_region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    int e = errno;
    close(fd);
    errno = e;
    return p == MAP_FAILED ? NULL : p;
}

static int take(sem_t *s) {
    int rc;
    do rc = sem_wait(s); while (rc < 0 && errno == EINTR);
    return rc;
}

int mm_add(struct mm_region *r, uint32_t writer, uint32_t seq) {
    if (take(&r->lock) < 0) return -1;
    const uint64_t n = r->records;
    if (n < MM_LOG_CAP) {
        r->log[n] = (struct mm_record){writer, seq};
        r->records = n + 1;
        r->count += 1;
    }
    sem_post(&r->lock);
    if (n >= MM_LOG_CAP) { errno = ENOSPC; return -1; }
    return 0;
}

uint64_t mm_count(struct mm_region *r) {
    uint64_t c = 0;
    if (take(&r->lock) == 0) { c = r->count; sem_post(&r->lock); }
    return c;
}

int mm_sync(struct mm_region *r) { return msync(r, sizeof *r, MS_SYNC) == 0 ? 0 : -1; }

int mm_region_close(struct mm_region *r) { return munmap(r, sizeof *r); }
