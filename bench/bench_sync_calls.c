/* The cost of one synchronization call with and without the sync interposer (bench_sync.cpp runs
 * it twice: built plain, and built like a lab's program with interpose_sync; the second under
 * IPCG_SYNC mode=native and mode=delays). Prints "<call> <ns per call>" lines.
 *
 *   bench_sync_calls N     N uncontended pairs of each: sem_post+sem_wait, mutex lock+unlock,
 *                          semop(+1)+semop(-1) on a private SysV set */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sem.h>
#include <time.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    sem_t s;
    sem_init(&s, 0, 0);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        sem_post(&s);
        sem_wait(&s);
    }
    printf("sem_post+sem_wait %.1f\n", (now_ns() - t0) / n / 2);

    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
    }
    printf("pthread_mutex_lock+unlock %.1f\n", (now_ns() - t0) / n / 2);

    int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (id < 0) return 1;
    struct sembuf up = {0, 1, 0}, down = {0, -1, 0};
    long k = n / 10 > 0 ? n / 10 : 1;
    t0 = now_ns();
    for (long i = 0; i < k; i++) {
        semop(id, &up, 1);
        semop(id, &down, 1);
    }
    printf("semop+semop %.1f\n", (now_ns() - t0) / k / 2);
    semctl(id, 0, IPC_RMID);
    return 0;
}
