/* The board: a small file the grader creates for one test and every role of it maps (MAP_SHARED).
 * Trusted code only writes it: the drivers, before and after each call into the implementation
 * under test, and the grader, which reads it once the roles are done. It holds the shared counter
 * of part A, the processes inside each critical section, the barrier's arrivals per phase, the
 * philosophers eating, and a log of readers' and writers' entries and exits (part B). C, so the
 * drivers and the grader's checks share one layout. */
#ifndef IPCGRADE_LAB7_BOARD_H
#define IPCGRADE_LAB7_BOARD_H

#include <stdint.h>

enum { LAB7_EVENTS = 8192, LAB7_PHASES = 256, LAB7_SEATS = 16 };

/* Part B's log: what each reader and writer did, in order of a shared index. */
enum lab7_event_kind { LAB7_READ_ASK = 1, LAB7_READ_IN, LAB7_READ_OUT, LAB7_WRITE_ASK, LAB7_WRITE_IN, LAB7_WRITE_OUT };

struct lab7_event {
    int32_t kind;
    int32_t actor;   /* the role's number in the test */
    int32_t pid;
    int32_t step;    /* the role's own count of sections */
    int64_t t_ns;    /* CLOCK_MONOTONIC */
};

/* The first time two processes were inside at once where only one may be. */
struct lab7_overlap {
    int32_t count;   /* how many times it happened */
    int32_t pid_in;  /* who was inside */
    int32_t pid_new; /* who came in beside it */
    int32_t step;    /* the newcomer's section number */
};

struct lab7_board {
    /* Part A */
    int64_t counter;          /* the shared counter (counter_get / counter_set) */
    int32_t inside;           /* processes inside the critical section now */
    int32_t inside_pid;       /* the last one that came in */
    struct lab7_overlap cs;   /* mutual exclusion broken */
    int32_t release;          /* set by the grader: a holding role may leave */
    /* Part B */
    int32_t readers_in, writers_in, max_readers_in;
    struct lab7_overlap writer_not_alone;  /* a writer with anyone else inside */
    int32_t writers_done;     /* writers that finished all their sections */
    /* Part C */
    int32_t arrived[LAB7_PHASES];  /* calls of barrier_wait made for each phase */
    struct lab7_overlap early;     /* pid_new returned from phase `step` when only pid_in (count) had arrived */
    int32_t early_arrived;
    /* Part D */
    int32_t eating[LAB7_SEATS];
    int32_t meals[LAB7_SEATS];
    struct lab7_overlap neighbours;  /* two neighbours eating at once (pid_in, pid_new; step: the seat) */
    /* Part B's log */
    uint32_t nevents;
    struct lab7_event events[LAB7_EVENTS];
};

#endif
