/* What the synchronization checker's two sides share (C, header-only): the layout of the monitor
 * mapping the grader creates (a memfd passed to each role as fd IPCG_SYNC_MONITOR_FD) and the
 * schedule decision, a pure function of (seed, actor, call count).
 *
 * The interposer (sync_interposer.c, linked into a lab's programs when lab.toml says
 * `[build] interpose_sync = true`) writes the mapping; the grader (SyncMonitor, DeadlockWatch in
 * the harness/sync headers) read it. The runner writes this header beside the drivers.
 *
 * The mapping lives in the student's address space too: student code could find and overwrite it.
 * Everything read from it is evidence for an explanation, never the only ground of a verdict
 * (docs/threat-model.md). */
#ifndef IPCG_SYNC_SHARED_H
#define IPCG_SYNC_SHARED_H

#include <stdint.h>

#define IPCG_SYNC_MONITOR_FD 5
#define IPCG_SYNC_MAGIC 0x43595349u /* "ISYC" */
#define IPCG_SYNC_VERSION 2u

#define IPCG_SYNC_MAX_ACTORS 64     /* process slots (a role and every process it forks) */
#define IPCG_SYNC_MAX_OBJECTS 16    /* semaphores/mutexes one process's counts are kept for */
#define IPCG_SYNC_MAX_SECTIONS 16   /* ipcg_cs_enter(section): section < this */
#define IPCG_SYNC_MAX_BUFFERS 8     /* ipcg_count_*(buffer): buffer < this */
#define IPCG_SYNC_MAX_VIOLATIONS 32 /* the first ones are kept; `violations_seen` counts all */

/* Schedule modes (IPCG_SYNC's mode=...). */
#define IPCG_SYNC_NATIVE 0u
#define IPCG_SYNC_DELAYS 1u
#define IPCG_SYNC_PCT 2u

/* What one object of a process's counts is. */
#define IPCG_SYNC_OBJ_SEM 1u     /* sem_t at `addr` in that process (POSIX, named or in shm) */
#define IPCG_SYNC_OBJ_MUTEX 2u   /* pthread_mutex_t at `addr` */
#define IPCG_SYNC_OBJ_SYSV 3u    /* SysV set `semid`, semaphore `semnum` */
#define IPCG_SYNC_OBJ_CLAIMING 0xffffffffu /* being filled in by its process: not yet readable */

/* Violation kinds. */
#define IPCG_SYNC_V_TWO_INSIDE 1u  /* a second process entered a section another one was inside */
#define IPCG_SYNC_V_UNDERFLOW 2u   /* a get returned an item no put had started: count < 0 */
#define IPCG_SYNC_V_OVERFLOW 3u    /* a put returned while more than capacity items were in */

struct ipcg_sync_object {
    uint32_t kind;          /* IPCG_SYNC_OBJ_*, 0 = free */
    int32_t semnum;         /* SysV */
    int64_t semid;          /* SysV */
    uint64_t addr;          /* POSIX / mutex: the address in this process */
    int64_t acquired;       /* successful waits (SysV: units taken) */
    int64_t released;       /* posts (SysV: units given) */
    /* sem/mutex: what `addr` lies in, read from /proc/self/maps when the object was first seen,
     * so the grader can match it across processes even after this one ended (0: not found). */
    uint32_t where_found;   /* 1: found; 2: found, in a private mapping */
    uint32_t dev_major, dev_minor;
    uint32_t pad;
    uint64_t inode, offset;
};

struct ipcg_sync_actor {
    int32_t pid;            /* 0 = free slot */
    uint32_t actor;         /* the role's index (IPCG_SYNC actor=) */
    uint64_t lineage;       /* the role's own process is 0; a forked child: a hash of its place */
    uint64_t calls;         /* synchronization calls and sync points so far (the step) */
    struct ipcg_sync_object objects[IPCG_SYNC_MAX_OBJECTS];
    struct ipcg_sync_object waiting; /* what it is blocked on now (kind 0: nothing) */
    /* pct: 1 when the process has asked the grader to place it (start: CPU and priority) or to
     * demote it (a change point), and the grader has not answered yet; the process does not
     * wait. `pct_requests` counts the requests, placement included. */
    uint32_t pct_wait;
    uint32_t pct_requests;
};

#define IPCG_SYNC_SECTION_PIDS 8
struct ipcg_sync_section {
    int32_t inside;         /* processes between ipcg_cs_enter and ipcg_cs_exit */
    int32_t pad;
    uint64_t entries;
    /* Who is inside: a process writes its pid here before it counts itself in, and clears it
     * before it counts itself out, so one that finds another inside can name it. */
    int32_t pids[IPCG_SYNC_SECTION_PIDS];
};

/* A bounded buffer's counts: the checks use only orders the calls make certain (a get returned
 * before any put started; a put returned with more items in than capacity even if every started
 * get had taken one). */
struct ipcg_sync_buffer {
    int64_t capacity;
    int64_t puts_started, puts_done, gets_started, gets_done;
};

struct ipcg_sync_violation {
    uint32_t kind;          /* IPCG_SYNC_V_* */
    uint32_t index;         /* section or buffer */
    int32_t pid_a;          /* the process already inside (two_inside); else 0 */
    int32_t pid_b;          /* the process that made the violation */
    uint64_t step;          /* pid_b's call count at that moment */
    int64_t value;          /* the count (underflow/overflow), or how many were inside */
};

struct ipcg_sync_monitor {
    uint32_t magic, version;
    uint32_t mode;          /* as the grader set it (informational) */
    uint32_t actors_used;   /* slots claimed (may exceed the max: the extra are not recorded) */
    uint32_t violations_seen;
    uint32_t pad;
    struct ipcg_sync_actor actors[IPCG_SYNC_MAX_ACTORS];
    struct ipcg_sync_section sections[IPCG_SYNC_MAX_SECTIONS];
    struct ipcg_sync_buffer buffers[IPCG_SYNC_MAX_BUFFERS];
    struct ipcg_sync_violation violations[IPCG_SYNC_MAX_VIOLATIONS];
};

/* ---- the schedule: one decision per perturbation point, a pure function of its inputs -------- */

static inline uint64_t ipcg_sync_mix(uint64_t x) { /* splitmix64's finalizer */
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The key of a process: its role's index and its place among the role's forks. */
static inline uint64_t ipcg_sync_actor_key(uint32_t actor, uint64_t lineage) {
    return ipcg_sync_mix(((uint64_t)actor << 32) ^ ipcg_sync_mix(lineage));
}

#define IPCG_SYNC_RUN_ON 0u
#define IPCG_SYNC_YIELD 1u
#define IPCG_SYNC_SLEEP 2u

struct ipcg_sync_decision {
    uint32_t action;        /* IPCG_SYNC_RUN_ON / YIELD / SLEEP */
    uint32_t sleep_us;      /* SLEEP: 1..IPCG_SYNC_MAX_SLEEP_US */
};
#define IPCG_SYNC_MAX_SLEEP_US 200u

/* delays mode: half the points run on, a quarter yield, a quarter sleep 1-200 us. native: always
 * run on. pct: run on (its perturbation is the priorities the grader sets and the change points,
 * ipcg_sync_change_point). */
static inline struct ipcg_sync_decision ipcg_sync_decide(uint32_t mode, uint64_t seed, uint64_t actor_key,
                                                         uint64_t count) {
    struct ipcg_sync_decision d = {IPCG_SYNC_RUN_ON, 0};
    if (mode != IPCG_SYNC_DELAYS) return d;
    uint64_t r = ipcg_sync_mix(seed ^ ipcg_sync_mix(actor_key ^ ipcg_sync_mix(count)));
    uint32_t pick = (uint32_t)(r & 3u);
    if (pick == 2u) d.action = IPCG_SYNC_YIELD;
    if (pick == 3u) {
        d.action = IPCG_SYNC_SLEEP;
        d.sleep_us = 1u + (uint32_t)((r >> 8) % IPCG_SYNC_MAX_SLEEP_US);
    }
    return d;
}

/* pct mode: whether call `count` of this process is one of its d-1 change points (where it lowers
 * its own priority below every other's). Change points are drawn from [1, horizon]. */
static inline int ipcg_sync_change_point(uint64_t seed, uint64_t actor_key, uint64_t count, uint32_t depth,
                                         uint64_t horizon) {
    if (depth < 2u || horizon == 0u) return 0;
    for (uint32_t i = 0; i + 1u < depth; i++) {
        uint64_t at = 1u + ipcg_sync_mix(seed ^ ipcg_sync_mix(actor_key + 0x5bd1e995ull * (i + 1u))) % horizon;
        if (at == count) return 1;
    }
    return 0;
}

#endif
