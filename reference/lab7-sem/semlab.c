/* Lab 7 reference: the classic problems with POSIX named semaphores and System V sets. */
#define _GNU_SOURCE
#include "semlab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>

/* ---- Part A ---- */

static sem_t *create_sem(const char *name, unsigned value) {
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0666, value);
    if (s == SEM_FAILED && errno == EEXIST) {
        /* Left by a crashed run: its value means nothing now. */
        if (sem_unlink(name) != 0 && errno != ENOENT) return SEM_FAILED;
        s = sem_open(name, O_CREAT | O_EXCL, 0666, value);
    }
    return s;
}

static int wait_retrying(sem_t *s) {
    while (sem_wait(s) != 0)
        if (errno != EINTR) return -1;
    return 0;
}

int cs_create(struct cs *c, const char *name) {
    c->sem = create_sem(name, 1);
    return c->sem == SEM_FAILED ? -1 : 0;
}

int cs_open(struct cs *c, const char *name) {
    c->sem = sem_open(name, 0);
    return c->sem == SEM_FAILED ? -1 : 0;
}

int cs_enter(struct cs *c) { return wait_retrying(c->sem); }
int cs_leave(struct cs *c) { return sem_post(c->sem); }
int cs_close(struct cs *c) { return sem_close(c->sem); }
int cs_remove(const char *name) { return sem_unlink(name); }

int cs_add(struct cs *c, long delta) {
    if (cs_enter(c) != 0) return -1;
    counter_set(counter_get() + delta);
    return cs_leave(c);
}

/* ---- Part B: readers-writers, writer preference ----
 * READERS: readers inside. WRITERS: writers waiting or inside. WRITING: the writer inside (0/1).
 * A reader enters in one atomic semop "no writer waiting or inside, and one more reader"; a
 * writer first counts itself among the writers (from then on no new reader enters), then waits
 * for "no reader, no writer inside" and takes WRITING. SEM_UNDO: a process killed inside gives
 * back what it took. */
enum { READERS, WRITERS, WRITING, RW_SEMS };

static int semop_retrying(int semid, struct sembuf *ops, size_t n) {
    while (semop(semid, ops, n) != 0)
        if (errno != EINTR) return -1;
    return 0;
}

static int make_set(key_t key, int nsems) {
    int id = semget(key, nsems, IPC_CREAT | IPC_EXCL | 0666);
    if (id < 0 && errno == EEXIST) {
        int old = semget(key, 0, 0);
        if (old >= 0 && semctl(old, 0, IPC_RMID) != 0) return -1;
        id = semget(key, nsems, IPC_CREAT | IPC_EXCL | 0666);
    }
    return id;
}

int rw_open(struct rw *l, key_t key, int create) {
    if (!create) {
        l->semid = semget(key, RW_SEMS, 0);
        return l->semid < 0 ? -1 : 0;
    }
    l->semid = make_set(key, RW_SEMS);
    if (l->semid < 0) return -1;
    unsigned short zero[RW_SEMS] = {0, 0, 0};
    return semctl(l->semid, 0, SETALL, zero);
}

int rw_read_lock(struct rw *l) {
    struct sembuf ops[] = {{WRITERS, 0, 0}, {READERS, 1, SEM_UNDO}};
    return semop_retrying(l->semid, ops, 2);
}

int rw_read_unlock(struct rw *l) {
    struct sembuf ops[] = {{READERS, -1, SEM_UNDO}};
    return semop_retrying(l->semid, ops, 1);
}

int rw_write_lock(struct rw *l) {
    struct sembuf ask[] = {{WRITERS, 1, SEM_UNDO}};
    if (semop_retrying(l->semid, ask, 1) != 0) return -1;
    struct sembuf enter[] = {{READERS, 0, 0}, {WRITING, 0, 0}, {WRITING, 1, SEM_UNDO}};
    return semop_retrying(l->semid, enter, 3);
}

int rw_write_unlock(struct rw *l) {
    struct sembuf ops[] = {{WRITING, -1, SEM_UNDO}, {WRITERS, -1, SEM_UNDO}};
    return semop_retrying(l->semid, ops, 2);
}

int rw_remove(struct rw *l) { return semctl(l->semid, 0, IPC_RMID); }

/* ---- Part C: the two-turnstile barrier (Downey), the count kept as a semaphore's value ---- */
enum { MUTEX, COUNT, GATE1, GATE2 };
static const char *const suffix[] = {".mutex", ".count", ".gate1", ".gate2"};
static const unsigned initial[] = {1, 0, 0, 0};

static int sem_name(char *out, const char *name, int i) {
    return snprintf(out, 64, "%s%s", name, suffix[i]) < 64 ? 0 : -1;
}

int barrier_open(struct barrier *b, const char *name, int n, int create) {
    b->n = n;
    for (int i = 0; i < BARRIER_MAX_SEMS; i++) {
        if (sem_name(b->names[i], name, i) != 0) { errno = ENAMETOOLONG; return -1; }
        b->sem[i] = create ? create_sem(b->names[i], initial[i]) : sem_open(b->names[i], 0);
        if (b->sem[i] == SEM_FAILED) return -1;
    }
    return 0;
}

static int count_value(struct barrier *b) {
    int v = -1;
    sem_getvalue(b->sem[COUNT], &v);
    return v;
}

static int open_gate(sem_t *gate, int n) {
    for (int i = 0; i < n; i++)
        if (sem_post(gate) != 0) return -1;
    return 0;
}

int barrier_wait(struct barrier *b) {
    if (wait_retrying(b->sem[MUTEX]) != 0) return -1;
    sem_post(b->sem[COUNT]);
    if (count_value(b) == b->n && open_gate(b->sem[GATE1], b->n) != 0) return -1;
    sem_post(b->sem[MUTEX]);
    if (wait_retrying(b->sem[GATE1]) != 0) return -1;

    if (wait_retrying(b->sem[MUTEX]) != 0) return -1;
    if (wait_retrying(b->sem[COUNT]) != 0) return -1;
    if (count_value(b) == 0 && open_gate(b->sem[GATE2], b->n) != 0) return -1;
    sem_post(b->sem[MUTEX]);
    return wait_retrying(b->sem[GATE2]);
}

int barrier_close(struct barrier *b) {
    int rc = 0;
    for (int i = 0; i < BARRIER_MAX_SEMS; i++)
        if (b->sem[i] && b->sem[i] != SEM_FAILED && sem_close(b->sem[i]) != 0) rc = -1;
    return rc;
}

int barrier_remove(const char *name) {
    int rc = 0;
    char n[64];
    for (int i = 0; i < BARRIER_MAX_SEMS; i++)
        if (sem_name(n, name, i) != 0 || (sem_unlink(n) != 0 && errno != ENOENT)) rc = -1;
    return rc;
}

/* ---- Part D: both forks in one atomic semop, so nobody holds one fork while waiting ----
 * SEM_UNDO on every fork: a philosopher killed while eating gives its forks back. */

int table_open(struct table *t, key_t key, int n, int create) {
    if (n < 2 || n > 16) { errno = EINVAL; return -1; }
    t->n = n;
    if (!create) {
        t->semid = semget(key, n, 0);
        return t->semid < 0 ? -1 : 0;
    }
    t->semid = make_set(key, n);
    if (t->semid < 0) return -1;
    unsigned short one[16];
    for (int i = 0; i < n; i++) one[i] = 1;
    return semctl(t->semid, 0, SETALL, one);
}

int table_pick(struct table *t, int i) {
    struct sembuf ops[] = {{(unsigned short)i, -1, SEM_UNDO}, {(unsigned short)((i + 1) % t->n), -1, SEM_UNDO}};
    return semop_retrying(t->semid, ops, 2);
}

int table_put(struct table *t, int i) {
    struct sembuf ops[] = {{(unsigned short)i, 1, SEM_UNDO}, {(unsigned short)((i + 1) % t->n), 1, SEM_UNDO}};
    return semop_retrying(t->semid, ops, 2);
}

int table_remove(struct table *t) { return semctl(t->semid, 0, IPC_RMID); }
