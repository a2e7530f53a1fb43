/* Lab 7: semaphores. The API you implement in semlab.c.
 *
 * Part A (POSIX named semaphore): a critical section. cs_enter/cs_leave let one process at a
 *   time in; cs_add adds to a counter shared by every process, inside the critical section.
 * Part B (System V semaphore set): readers-writers with WRITER PREFERENCE: readers share,
 *   a writer is alone, and once a writer asks, no new reader gets in before it.
 * Part C (POSIX named semaphores): a reusable barrier for n processes.
 * Part D (System V semaphore set): n dining philosophers that can never deadlock.
 *
 * The grader runs every role as a separate, unrelated process, under different user ids: create
 * every semaphore with mode 0666. Names ("/something") and keys come from the grader. It watches
 * your processes from outside (/proc, a record its own drivers keep). See README.md. */
#ifndef IPCGRADE_LAB7_SEMLAB_H
#define IPCGRADE_LAB7_SEMLAB_H

#include <semaphore.h>
#include <sys/types.h>

/* ---- Part A: a critical section (POSIX named semaphore) --------------------------------------- */

struct cs {
    sem_t *sem;
};

/* Creates the semaphore `name` with value 1 (mode 0666) and opens it. A semaphore of that name
 * left by a crashed run (EEXIST; its value may be anything, 0 included) is removed and made anew.
 * Returns 0, or -1 with errno set (e.g. EMFILE when no descriptor is left): never exit(). */
int cs_create(struct cs *c, const char *name);
/* Opens the existing semaphore `name`. Returns 0, or -1 with errno set. */
int cs_open(struct cs *c, const char *name);
/* Waits until the caller is alone inside. Blocks (never spins). A signal handler interrupting
 * the wait (EINTR) must not let the caller in: wait again. Returns 0 once inside, or -1 with
 * errno set on any other error. */
int cs_enter(struct cs *c);
/* Leaves the critical section. Returns 0, or -1 with errno set. */
int cs_leave(struct cs *c);
/* Closes this process's handle (sem_close). Returns 0, or -1 with errno set. */
int cs_close(struct cs *c);
/* Removes the semaphore `name` (sem_unlink): the last call. Returns 0, or -1 with errno set. */
int cs_remove(const char *name);

/* The shared counter lives in memory the grader owns. Read and write it only with these two
 * functions, which the grader's driver provides (they are slow on purpose: a critical section
 * does real work). */
long counter_get(void);
void counter_set(long value);
/* Adds delta to the shared counter inside the critical section: no update may ever be lost,
 * whatever the number of processes. Returns 0, or -1 with errno set. */
int cs_add(struct cs *c, long delta);

/* ---- Part B: readers-writers, writer preference (System V semaphore set) ---------------------- */

struct rw {
    int semid;
};

/* Creates the set of `key` (mode 0666, IPC_CREAT | IPC_EXCL; a set left by a crashed run is
 * removed and made anew) and sets its initial values; or, with create = 0, opens the existing
 * one. Returns 0, or -1 with errno set. */
int rw_open(struct rw *l, key_t key, int create);
/* Readers share the lock with each other, never with a writer. Writer preference: once a writer
 * waits, readers that ask after it wait until it is done. A reader may wait for writers; a
 * writer waits only for those inside. EINTR is retried. Return 0, or -1 with errno set. */
int rw_read_lock(struct rw *l);
int rw_read_unlock(struct rw *l);
int rw_write_lock(struct rw *l);
int rw_write_unlock(struct rw *l);
/* Removes the set (IPC_RMID): the last call. Returns 0, or -1 with errno set. */
int rw_remove(struct rw *l);

/* ---- Part C: a reusable barrier for n processes (POSIX named semaphores) ----------------------- */

#define BARRIER_MAX_SEMS 4

struct barrier {
    int n;
    sem_t *sem[BARRIER_MAX_SEMS]; /* yours to use: at most four named semaphores */
    char names[BARRIER_MAX_SEMS][64];
};

/* Creates (create = 1: every semaphore made anew, mode 0666) or opens (create = 0) the barrier
 * `name` for n processes. Its semaphores are named `name` followed by a suffix of your choice
 * ("/x" -> "/x.mutex", "/x.gate1"...), at most four of them. Returns 0, or -1 with errno set. */
int barrier_open(struct barrier *b, const char *name, int n, int create);
/* Returns once all n processes have called it for this phase: nobody returns from its k-th call
 * before every process has made its k-th call, phase after phase. EINTR is retried. Returns 0,
 * or -1 with errno set. */
int barrier_wait(struct barrier *b);
/* Closes this process's handles. */
int barrier_close(struct barrier *b);
/* Removes every semaphore of the barrier `name` (sem_unlink each). */
int barrier_remove(const char *name);

/* ---- Part D: dining philosophers (System V semaphore set) ------------------------------------- */

struct table {
    int semid;
    int n;
};

/* Creates (create = 1: made anew, mode 0666, every fork free) or opens the table of n
 * philosophers (2 <= n <= 16) of `key`. Returns 0, or -1 with errno set. */
int table_open(struct table *t, key_t key, int n, int create);
/* Philosopher i (0 .. n-1) takes forks i and (i + 1) % n; blocks until it holds both. Must never
 * deadlock, whatever the timing. EINTR is retried. Returns 0, or -1 with errno set.
 * A philosopher killed while it eats must not keep its forks: every semop that takes or puts a
 * fork uses SEM_UNDO, so the kernel gives back what a dead process took. */
int table_pick(struct table *t, int i);
/* Philosopher i puts both forks back (semop with SEM_UNDO, as table_pick). Returns 0, or -1 with
 * errno set. */
int table_put(struct table *t, int i);
/* Removes the set (IPC_RMID). Returns 0, or -1 with errno set. */
int table_remove(struct table *t);

#endif
