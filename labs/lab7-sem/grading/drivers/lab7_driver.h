/* What lab7's trusted drivers add to the harness's driver kit: the board (lab7_board.h) mapped
 * from the file the grader names, the shared counter's accessors the handout promises
 * (counter_get / counter_set), seeded pauses, and the options every driver takes. Header-only:
 * each driver is one C file linked with the implementation under test. */
#ifndef IPCGRADE_LAB7_DRIVER_H
#define IPCGRADE_LAB7_DRIVER_H

#include "driver_kit.h" /* the harness's, written beside the drivers when they are built */
#include "lab7_board.h"

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

/* The harness's synchronization kit (harness/sync), written beside the drivers and linked in
 * (lab.toml: interpose_sync): perturbation at sync points and the critical-section monitor. Its
 * perturbation of the implementation's own semaphore calls comes from the interposer; the lab's
 * seeded pauses (lab7_pause) are the work done inside the sections. */
#include "sync_kit.h"

enum { CONTROL_FD = IPCG_CONTROL_FD };

static struct lab7_board *board;
static uint64_t pause_state = 0x9e3779b97f4a7c15ull;
static int actor_id;
static int spare_fds = -1; /* --spare-fds N: RLIMIT_NOFILE lowered before the first call */

static inline uint64_t next_random(void) {
    uint64_t x = pause_state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return pause_state = x;
}

/* A seeded pause of up to max_us: nothing, a yield, or a short sleep. Applied by trusted code
 * inside and around critical sections, so that overlapping processes overlap for real. */
static inline void lab7_pause(unsigned max_us) {
    const uint64_t r = next_random();
    switch (r % 4) {
    case 0: break;
    case 1: sched_yield(); break;
    default: {
        struct timespec ts = {0, (long)(1000 * (1 + (r >> 8) % (max_us ? max_us : 1)))};
        nanosleep(&ts, NULL);
    }
    }
}

/* A seeded sleep between half of max_us and max_us: work that always takes time (a reader that
 * always overlaps the others, a philosopher who always eats a while). */
static inline void lab7_hold(unsigned max_us) {
    const long us = max_us / 2 + (long)(next_random() % (uint64_t)(max_us / 2 + 1));
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static inline int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The shared counter's accessors (semlab.h): the counter lives on the board. Slow on purpose. */
long counter_get(void) {
    long v = (long)__atomic_load_n(&board->counter, __ATOMIC_SEQ_CST);
    lab7_pause(300);
    return v;
}
void counter_set(long value) {
    lab7_pause(100);
    __atomic_store_n(&board->counter, (int64_t)value, __ATOMIC_SEQ_CST);
}

static inline void map_board(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    void *p = fd < 0 ? MAP_FAILED : mmap(NULL, sizeof *board, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        dprintf(CONTROL_FD, "board-lost %d\n", errno);
        _exit(2);
    }
    close(fd);
    board = p;
}

/* Records an overlap (the first one's pids and step; every one counted). */
static inline void note_overlap(struct lab7_overlap *o, int32_t pid_in, int32_t step) {
    if (__atomic_fetch_add(&o->count, 1, __ATOMIC_SEQ_CST) == 0) {
        o->pid_in = pid_in;
        o->pid_new = (int32_t)getpid();
        o->step = step;
    }
}

/* The options every driver takes before its mode: --board PATH, --seed S, --actor N, --eintr,
 * --spare-fds N. Returns the index of the first other argument. */
static inline int common_options(int argc, char **argv) {
    int i = 1;
    uint64_t seed = 1;
    for (; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--board") && i + 1 < argc) map_board(argv[++i]);
        else if (!strcmp(o, "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(o, "--actor") && i + 1 < argc) actor_id = atoi(argv[++i]);
        else if (!strcmp(o, "--eintr")) ipcg_catch_sigusr1_without_restart();
        else if (!strcmp(o, "--spare-fds") && i + 1 < argc) spare_fds = atoi(argv[++i]);
        else break;
    }
    pause_state ^= seed * 0xbf58476d1ce4e5b9ull ^ ((uint64_t)(actor_id + 1) << 32);
    if (!pause_state) pause_state = 1;
    return i;
}

static inline void driver_setup(void) {
    ipcg_control_setup();
    umask(0);
}

static inline void log_event(int kind, int step) {
    uint32_t i = __atomic_fetch_add(&board->nevents, 1, __ATOMIC_SEQ_CST);
    if (i >= LAB7_EVENTS) return;
    struct lab7_event *e = &board->events[i];
    e->actor = actor_id;
    e->pid = (int32_t)getpid();
    e->step = step;
    e->t_ns = now_ns();
    __atomic_store_n(&e->kind, kind, __ATOMIC_RELEASE);
}

/* Waits (sleeping) until the grader sets board->release. */
static inline void wait_for_release(void) {
    while (!__atomic_load_n(&board->release, __ATOMIC_SEQ_CST)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* One call into the implementation: sync points around it, "call X" before it, "error X ERRNO"
 * (and exit 1) when it fails. */
#define CALL(fn, ...)                                         \
    do {                                                      \
        ipcg_sync_point(#fn);                                 \
        ipcg_report_call(#fn);                                \
        if (fn(__VA_ARGS__) != 0) {                           \
            dprintf(CONTROL_FD, "error " #fn " %d\n", errno); \
            return 1;                                         \
        }                                                     \
        dprintf(CONTROL_FD, "returned " #fn "\n");            \
        ipcg_sync_point(#fn);                                 \
    } while (0)

#endif
