/* Lab 7: semaphores. Implement the functions of semlab.h (read README.md first).
 * Every function below is a stub that fails with ENOSYS: replace each TODO. */
#define _GNU_SOURCE
#include "semlab.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>

/* ---- Part A: a critical section ---- */

int cs_create(struct cs *c, const char *name) {
    /* TODO: sem_open(name, O_CREAT | O_EXCL, 0666, 1); on EEXIST sem_unlink the old one and
     * create it again. On SEM_FAILED return -1 (errno is sem_open's). */
    (void)c; (void)name;
    errno = ENOSYS;
    return -1;
}

int cs_open(struct cs *c, const char *name) {
    /* TODO: sem_open(name, 0) */
    (void)c; (void)name;
    errno = ENOSYS;
    return -1;
}

int cs_enter(struct cs *c) {
    /* TODO: sem_wait; on EINTR wait again */
    (void)c;
    errno = ENOSYS;
    return -1;
}

int cs_leave(struct cs *c) {
    /* TODO: sem_post */
    (void)c;
    errno = ENOSYS;
    return -1;
}

int cs_close(struct cs *c) {
    /* TODO: sem_close */
    (void)c;
    errno = ENOSYS;
    return -1;
}

int cs_remove(const char *name) {
    /* TODO: sem_unlink */
    (void)name;
    errno = ENOSYS;
    return -1;
}

int cs_add(struct cs *c, long delta) {
    /* TODO: inside the critical section: counter_set(counter_get() + delta) */
    (void)c; (void)delta;
    errno = ENOSYS;
    return -1;
}

/* ---- Part B: readers-writers, writer preference ---- */

int rw_open(struct rw *l, key_t key, int create) {
    /* TODO: semget (IPC_CREAT | IPC_EXCL | 0666 when creating; a set left by a crashed run is
     * removed first), then semctl SETALL with the initial values. */
    (void)l; (void)key; (void)create;
    errno = ENOSYS;
    return -1;
}

int rw_read_lock(struct rw *l) { (void)l; errno = ENOSYS; return -1; }     /* TODO: semop */
int rw_read_unlock(struct rw *l) { (void)l; errno = ENOSYS; return -1; }   /* TODO: semop */
int rw_write_lock(struct rw *l) { (void)l; errno = ENOSYS; return -1; }    /* TODO: semop */
int rw_write_unlock(struct rw *l) { (void)l; errno = ENOSYS; return -1; }  /* TODO: semop */
int rw_remove(struct rw *l) { (void)l; errno = ENOSYS; return -1; }        /* TODO: IPC_RMID */

/* ---- Part C: a reusable barrier ---- */

int barrier_open(struct barrier *b, const char *name, int n, int create) {
    /* TODO: sem_open each semaphore "<name><suffix>" (made anew when create) */
    (void)b; (void)name; (void)n; (void)create;
    errno = ENOSYS;
    return -1;
}

int barrier_wait(struct barrier *b) { (void)b; errno = ENOSYS; return -1; }   /* TODO */
int barrier_close(struct barrier *b) { (void)b; errno = ENOSYS; return -1; }  /* TODO: sem_close each */
int barrier_remove(const char *name) { (void)name; errno = ENOSYS; return -1; } /* TODO: sem_unlink each */

/* ---- Part D: dining philosophers ---- */

int table_open(struct table *t, key_t key, int n, int create) {
    /* TODO: a set of n semaphores, each 1 (a free fork) */
    (void)t; (void)key; (void)n; (void)create;
    errno = ENOSYS;
    return -1;
}

/* table_pick and table_put: every semop on a fork with SEM_UNDO, so that a philosopher killed
 * while it eats does not keep its forks (the kernel undoes what a dead process took). */
int table_pick(struct table *t, int i) { (void)t; (void)i; errno = ENOSYS; return -1; } /* TODO: semop */
int table_put(struct table *t, int i) { (void)t; (void)i; errno = ENOSYS; return -1; }  /* TODO: semop */
int table_remove(struct table *t) { (void)t; errno = ENOSYS; return -1; }               /* TODO: IPC_RMID */
