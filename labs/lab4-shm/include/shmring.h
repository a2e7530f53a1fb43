/* Lab 4: shared memory. The API you implement in shmring.c.
 *
 * A bounded ring buffer of fixed-size records in a POSIX shared-memory object (shm_open +
 * ftruncate + mmap), shared by several producer and consumer processes that are not related.
 * The object's layout is fixed here, byte for byte, so that a course producer and your consumer
 * (or the other way round) share one buffer: never add, move or resize a field.
 *
 * Synchronization: the three process-shared semaphores of the layout (sem_init with pshared = 1,
 * inside the mapping), and nothing else: `mutex` guards head, tail, count and the slots, `empty`
 * counts free slots, `full` counts records waiting. No busy waiting, no sleeping in a loop.
 *
 * The grader runs every role as a separate process under different user ids: create the object
 * with mode 0666. It watches your processes from outside (/proc, and a log its own roles keep of
 * each record). See README.md. */
#ifndef IPCGRADE_LAB4_SHMRING_H
#define IPCGRADE_LAB4_SHMRING_H

#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAGIC 0x474e4952u   /* "RING": ring_create writes it last, once the ring is ready */
#define RING_MAX_CAPACITY 64u     /* slots in the layout; a ring uses the first `capacity` */
#define RING_PAYLOAD_BYTES 112u

/* One record, 128 bytes. The ring copies records whole and never looks inside them. */
struct ring_record {
    uint32_t producer;                   /* who put it (the course's roles fill these in) */
    uint32_t checksum;
    uint64_t seq;
    unsigned char payload[RING_PAYLOAD_BYTES];
};

/* The shared-memory object, exactly sizeof(struct ring_shared) bytes. */
struct ring_shared {
    uint32_t magic;      /* RING_MAGIC once ready; anything else: not ready (being created) */
    uint32_t capacity;   /* 1 .. RING_MAX_CAPACITY */
    uint32_t head;       /* the slot the next put writes */
    uint32_t tail;       /* the slot the next get reads */
    uint32_t count;      /* records in the ring: 0 .. capacity */
    uint32_t reserved;   /* 0 */
    sem_t mutex;         /* 1: guards head, tail, count and the slots */
    sem_t empty;         /* free slots: capacity at first */
    sem_t full;          /* records waiting: 0 at first */
    struct ring_record slots[RING_MAX_CAPACITY];
};

/* A process's handle on a ring. */
struct ring {
    struct ring_shared *shm;  /* the mapping */
    int fd;                   /* the shm_open descriptor, or -1 once closed */
};

/* Creates the ring `name` ("/something") with `capacity` slots (1 .. RING_MAX_CAPACITY, else
 * EINVAL): shm_open with mode 0666, ftruncate to sizeof(struct ring_shared), mmap MAP_SHARED,
 * head = tail = count = 0, the semaphores initialized process-shared, magic written last. An
 * object of that name left by a crashed run is removed and made anew: no record or semaphore
 * state of an old run may survive. On failure (shm_open, ftruncate or mmap fails: EMFILE, ENOMEM
 * ...) returns -1 with that call's errno and leaves nothing behind (no object, no mapping, no
 * descriptor); never exit(). Returns 0 and fills *r. */
int ring_create(struct ring *r, const char *name, unsigned capacity);

/* Opens an existing ring. If `name` does not exist, or exists but is not ready yet (smaller than
 * sizeof(struct ring_shared), or magic not yet RING_MAGIC: its creator is still at work), returns
 * -1 with errno ENOENT and leaves nothing open: the caller tries again later. Never creates the
 * object. Other failures: -1 with errno. Returns 0 and fills *r. */
int ring_open(struct ring *r, const char *name);

/* Copies *rec into the ring. A full ring blocks the caller (in sem_wait, never spinning) until a
 * slot is free. A signal that interrupts a wait (EINTR) is waited again: the caller never goes on
 * without the semaphore. Returns 0, or -1 with errno. */
int ring_put(struct ring *r, const struct ring_record *rec);

/* Takes the oldest record into *rec, whole. An empty ring blocks the caller (in sem_wait, never
 * spinning); EINTR as in ring_put. Returns 0, or -1 with errno. */
int ring_get(struct ring *r, struct ring_record *rec);

/* Unmaps the ring and closes its descriptor (the object stays). Returns 0, or -1 with errno. */
int ring_close(struct ring *r);

/* Removes the object `name` (shm_unlink): the last call of the ring's owner. Returns 0, or -1
 * with errno. */
int ring_destroy(const char *name);

#endif
