/* Lab 5: memory maps. The API you implement in mmlab.c.
 *
 * Part A (mm_copy): copy a file through mmap, transforming each byte on the way. The data goes
 * through the mappings only: read(), fread(), pread(), sendfile(), splice(), copy_file_range()
 * and their kin are forbidden (the grader looks for them in your object file), and the kernel's
 * own counters of your process (/proc/PID/io) must show no file data read or written by calls.
 * Part B (mm_region_*): a file-backed MAP_SHARED region that unrelated processes update under a
 * lock that lives inside the mapping (a process-shared POSIX semaphore).
 *
 * The grader runs every role as a separate process (writers, readers, the copier are not
 * related) and under different user ids: create files with mode 0666. It watches your processes
 * from outside (/proc) and reads the files itself. See README.md. */
#ifndef IPCGRADE_LAB5_MMLAB_H
#define IPCGRADE_LAB5_MMLAB_H

#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Part A: a copy through the mapping ------------------------------------------------------ */

/* Map at most this many bytes of a file at a time (a multiple of every page size): the grader
 * limits your address space (RLIMIT_AS) so that a large file cannot be mapped whole. */
#define MM_WINDOW (256 * 1024)

/* Copies the file src to dst (created with mode 0666, or truncated), every byte XOR-ed with key
 * (key 0: a plain copy). dst is sized with ftruncate and mapped shared (PROT_READ | PROT_WRITE,
 * MAP_SHARED); src is mapped read-only; each window of at most MM_WINDOW bytes is copied, then
 * the destination window is written back (msync) and both windows are unmapped.
 * An empty src gives an empty dst (mmap of length 0 fails with EINVAL: do not map it).
 * Returns 0, or -1 with errno set: a failed mmap (ENOMEM when the address space is exhausted)
 * is reported, never used; every mapping and descriptor is released before returning, on
 * success and on failure. Never exit(). */
int mm_copy(const char *src, const char *dst, unsigned char key);

/* ---- Part B: a region shared by unrelated processes ------------------------------------------ */

#define MM_LOG_CAP 1024

struct mm_record {
    uint32_t writer;  /* who added it */
    uint32_t seq;     /* that writer's sequence number */
};

/* The file's whole content, as every process maps it. Every update holds `lock`. */
struct mm_region {
    sem_t lock;        /* process-shared (sem_init(&lock, 1, 1)), at most one holder */
    uint64_t count;    /* updates so far */
    uint64_t records;  /* entries of log in use */
    struct mm_record log[MM_LOG_CAP];
};

/* Creates (mode 0666) or truncates the file path to sizeof(struct mm_region), zeroed, with the
 * lock initialised, written back to the file (msync) and unmapped. Returns 0, or -1 with errno. */
int mm_region_create(const char *path);

/* Maps the existing region path shared (read and write). Returns it, or NULL with errno set. */
struct mm_region *mm_region_open(const char *path);

/* Under the lock: count += 1 and the record {writer, seq} appended to log (-1 with errno
 * ENOSPC, nothing changed, when the log is full). Waiting for the lock, a signal (EINTR) is
 * retried. Returns 0, or -1 with errno set. */
int mm_add(struct mm_region *r, uint32_t writer, uint32_t seq);

/* The count as it is now, read under the lock (never a copy taken earlier). */
uint64_t mm_count(struct mm_region *r);

/* Writes the region back to its file (msync, MS_SYNC): when it returns 0, the updates are on
 * disk even if the process is killed at once. Returns 0, or -1 with errno set. */
int mm_sync(struct mm_region *r);

/* Unmaps the region. Returns 0, or -1 with errno set. */
int mm_region_close(struct mm_region *r);

#endif
