/* A process for the synchronization checker's tests, linked like a lab's program: with
 * sync_interposer.c and -Wl,--wrap for its calls (tests/unit/sync/CMakeLists.txt).
 *
 *   sync_test_actor count locked|early_release|none N   fd 6: the shared counter (struct shared)
 *   sync_test_actor lockorder /A /B     sem_wait(A), say "1" on stdout, read a byte, sem_wait(B)
 *                                       (each made at value 1 if it does not exist yet)
 *   sync_test_actor sysv SEMID FIRST SECOND             the same with semop on a SysV set
 *   sync_test_actor timedwait /A MS     sem_timedwait on A (made at 0) for MS ms, say "1" on stdout
 *   sync_test_actor spin /A MS          sem_trywait on A (made at 0) in a loop for MS ms: busy waiting
 *   sync_test_actor fill /A N           sem_post A (made at 0) N times, say "1", read a byte, exit
 *   sync_test_actor drain /A            sem_wait A (made at 0) forever: a consumer of a counting semaphore
 *
 * "count": the test's stand-in for a student's increment, with the driver's sync points around
 * each call and ipcg_cs_enter/exit where a lab's driver would put them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include "sync_kit.h"

struct shared {
    sem_t mutex;
    char pad[64];
    volatile long value;
};

static struct shared *shared_counter(void) {
    void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE, MAP_SHARED, 6, 0);
    if (p == MAP_FAILED) { perror("mmap fd 6"); exit(2); }
    return p;
}

/* The "student's" increment, three ways. */
static void increment(struct shared *s, const char *variant) {
    long v;
    if (strcmp(variant, "none") == 0) {
        v = s->value;
        s->value = v + 1;
    } else if (strcmp(variant, "early_release") == 0) {  /* the update after the unlock */
        sem_wait(&s->mutex);
        v = s->value;
        sem_post(&s->mutex);
        s->value = v + 1;
    } else {
        sem_wait(&s->mutex);
        ipcg_cs_enter(0);
        v = s->value;
        s->value = v + 1;
        ipcg_cs_exit(0);
        sem_post(&s->mutex);
    }
}

static void handshake(void) {
    char c;
    if (write(1, "1", 1) != 1 || read(0, &c, 1) != 1) exit(3);
}

static void sysv_down(int semid, int num) {
    struct sembuf op = {(unsigned short)num, -1, 0};
    if (semop(semid, &op, 1) != 0) { perror("semop"); exit(4); }
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "count") == 0) {
        struct shared *s = shared_counter();
        long n = atol(argv[3]);
        for (long i = 0; i < n; i++) {
            ipcg_sync_point("increment");
            increment(s, argv[2]);
            ipcg_sync_point("increment");
        }
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "lockorder") == 0) {
        /* Created at 1 by whoever comes first (in a cell, the grader cannot reach its /dev/shm). */
        sem_t *a = sem_open(argv[2], O_CREAT, 0600, 1), *b = sem_open(argv[3], O_CREAT, 0600, 1);
        if (a == SEM_FAILED || b == SEM_FAILED) { perror("sem_open"); return 2; }
        sem_wait(a);
        handshake();
        sem_wait(b);
        sem_post(b);
        sem_post(a);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "sysv") == 0) {
        int semid = atoi(argv[2]);
        sysv_down(semid, atoi(argv[3]));
        handshake();
        sysv_down(semid, atoi(argv[4]));
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "timedwait") == 0) {
        sem_t *a = sem_open(argv[2], O_CREAT, 0600, 0);
        if (a == SEM_FAILED) { perror("sem_open"); return 2; }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ms = atol(argv[3]);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        while (sem_timedwait(a, &until) != 0 && errno == EINTR) {
        }
        return write(1, "1", 1) == 1 ? 0 : 3;
    }
    if (argc == 4 && strcmp(argv[1], "spin") == 0) {
        sem_t *a = sem_open(argv[2], O_CREAT, 0600, 0);
        if (a == SEM_FAILED) { perror("sem_open"); return 2; }
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
            if (sem_trywait(a) == 0) break;
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L < atol(argv[3]));
        return 0;
    }
    if ((argc == 4 && strcmp(argv[1], "fill") == 0) || (argc == 3 && strcmp(argv[1], "drain") == 0)) {
        sem_t *a = sem_open(argv[2], O_CREAT, 0600, 0);
        if (a == SEM_FAILED) { perror("sem_open"); return 2; }
        if (argv[1][0] == 'd')
            for (;;) sem_wait(a);
        for (long i = atol(argv[3]); i > 0; i--) sem_post(a);
        handshake();
        return 0;
    }
    fprintf(stderr, "usage: sync_test_actor count|lockorder|sysv ...\n");
    return 2;
}
