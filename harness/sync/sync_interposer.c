/* The synchronization interposer: linked into every program of a lab whose lab.toml says
 * `[build] interpose_sync = true`, with `-Wl,--wrap=SYM` for each call below, so that the
 * student's object files (and the driver's) call __wrap_SYM, which perturbs the schedule, calls
 * the C library's SYM (__real_SYM) and counts what was acquired and released.
 *
 * Configuration: the environment variable IPCG_SYNC="mode=<native|delays|pct> seed=<u64>
 * actor=<n>" the grader sets per role, and the monitor mapping on fd 5 (sync_shared.h). Every
 * decision is a pure function of (seed, actor key, this process's call count): a seed replays the
 * same perturbations; where the kernel still orders processes differently, replay is best-effort.
 *
 * This file is trusted code running in the student's process: it defends nothing against code
 * that wants to fool it (docs/threat-model.md), it only has to stay out of a correct program's way.
 * It calls __real_* itself (never the wrapped names: the link wraps its own references too). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sync_kit.h"
#include "sync_shared.h"

int __real_sem_wait(sem_t *s);
int __real_sem_trywait(sem_t *s);
int __real_sem_timedwait(sem_t *s, const struct timespec *abstime);
int __real_sem_post(sem_t *s);
int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __real_pthread_mutex_trylock(pthread_mutex_t *m);
int __real_pthread_mutex_unlock(pthread_mutex_t *m);
int __real_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int __real_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime);
int __real_pthread_cond_signal(pthread_cond_t *c);
int __real_pthread_cond_broadcast(pthread_cond_t *c);
int __real_semop(int semid, struct sembuf *sops, size_t nsops);
int __real_semtimedop(int semid, struct sembuf *sops, size_t nsops, const struct timespec *timeout);
int __real_sched_yield(void);

static struct {
    uint32_t mode;
    uint64_t seed;
    uint32_t actor;
    uint64_t lineage;
    uint64_t key;
    uint64_t forks;          /* children this process forked (a child's lineage is its index) */
    uint64_t calls;          /* when there is no monitor slot */
    uint32_t depth;          /* pct: change points + 1 */
    uint64_t horizon;        /* pct: change points are drawn from calls 1..horizon */
    struct ipcg_sync_monitor *monitor;
    struct ipcg_sync_actor *slot;
} ipcg_sync;

static void ipcg_sync_pct_request(void);

static uint64_t ipcg_sync_parse_u64(const char *env, const char *name, uint64_t fallback) {
    const char *at = env;
    size_t len = strlen(name);
    while ((at = strstr(at, name)) != NULL) {
        if ((at == env || at[-1] == ' ') && at[len] == '=') return strtoull(at + len + 1, NULL, 10);
        at += len;
    }
    return fallback;
}

static void ipcg_sync_claim_slot(void) {
    ipcg_sync.slot = NULL;
    if (ipcg_sync.monitor == NULL) return;
    uint32_t i = __atomic_fetch_add(&ipcg_sync.monitor->actors_used, 1u, __ATOMIC_ACQ_REL);
    if (i >= IPCG_SYNC_MAX_ACTORS) return;
    struct ipcg_sync_actor *a = &ipcg_sync.monitor->actors[i];
    a->actor = ipcg_sync.actor;
    a->lineage = ipcg_sync.lineage;
    __atomic_store_n(&a->pid, (int32_t)getpid(), __ATOMIC_RELEASE);
    ipcg_sync.slot = a;
}

static void ipcg_sync_before_fork(void) { ipcg_sync.forks++; }

static void ipcg_sync_in_child(void) {
    ipcg_sync.lineage = ipcg_sync_mix(ipcg_sync.lineage * 31u + ipcg_sync.forks);
    ipcg_sync.key = ipcg_sync_actor_key(ipcg_sync.actor, ipcg_sync.lineage);
    ipcg_sync.forks = 0;
    ipcg_sync.calls = 0;
    ipcg_sync_claim_slot();
    if (ipcg_sync.mode == IPCG_SYNC_PCT) ipcg_sync_pct_request();  /* a child gets its own priority */
}

/* Maps the grader's monitor from fd 5 (only if it is one: a memfd of the right size and magic),
 * then closes fd 5 so that no program the student's code starts inherits it. */
static void ipcg_sync_map_monitor(void) {
    struct stat st;
    if (fstat(IPCG_SYNC_MONITOR_FD, &st) != 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size < sizeof(struct ipcg_sync_monitor))
        return;
    void *p = mmap(NULL, sizeof(struct ipcg_sync_monitor), PROT_READ | PROT_WRITE, MAP_SHARED,
                   IPCG_SYNC_MONITOR_FD, 0);
    if (p == MAP_FAILED) return;
    struct ipcg_sync_monitor *m = (struct ipcg_sync_monitor *)p;
    if (m->magic != IPCG_SYNC_MAGIC || m->version != IPCG_SYNC_VERSION) {
        munmap(p, sizeof *m);
        return;
    }
    close(IPCG_SYNC_MONITOR_FD);
    ipcg_sync.monitor = m;
}

__attribute__((constructor)) static void ipcg_sync_setup(void) {
    const char *env = getenv("IPCG_SYNC");
    if (env == NULL) return;
    if (strstr(env, "mode=delays") != NULL) ipcg_sync.mode = IPCG_SYNC_DELAYS;
    if (strstr(env, "mode=pct") != NULL) ipcg_sync.mode = IPCG_SYNC_PCT;
    ipcg_sync.seed = ipcg_sync_parse_u64(env, "seed", 0);
    ipcg_sync.actor = (uint32_t)ipcg_sync_parse_u64(env, "actor", 0);
    ipcg_sync.depth = (uint32_t)ipcg_sync_parse_u64(env, "depth", 3);
    ipcg_sync.horizon = ipcg_sync_parse_u64(env, "horizon", 200);
    ipcg_sync.key = ipcg_sync_actor_key(ipcg_sync.actor, 0);
    ipcg_sync_map_monitor();
    ipcg_sync_claim_slot();
    pthread_atfork(ipcg_sync_before_fork, NULL, ipcg_sync_in_child);
    if (ipcg_sync.mode == IPCG_SYNC_PCT) ipcg_sync_pct_request();  /* to be placed */
}

static uint64_t ipcg_sync_next_step(void) {
    if (ipcg_sync.slot != NULL) return __atomic_add_fetch(&ipcg_sync.slot->calls, 1u, __ATOMIC_RELAXED);
    return __atomic_add_fetch(&ipcg_sync.calls, 1u, __ATOMIC_RELAXED);
}

static uint64_t ipcg_sync_step(void) {
    return ipcg_sync.slot != NULL ? __atomic_load_n(&ipcg_sync.slot->calls, __ATOMIC_RELAXED) : ipcg_sync.calls;
}

/* pct: asks the grader to place this process (at its start: one CPU, its priority) or to demote
 * it (a change point), then yields. It does not wait for the answer: a process asleep in the
 * interposer would look, from /proc, like one asleep in the student's sem_wait (checks signal
 * such a process, and DeadlockWatch would count it). The grader answers on its next tick; the
 * priorities are set from outside because a process may not raise its own and the syscall filter
 * lets it change none. */
static void ipcg_sync_pct_request(void) {
    struct ipcg_sync_actor *a = ipcg_sync.slot;
    if (a == NULL) return;
    int saved = errno;
    __atomic_add_fetch(&a->pct_requests, 1u, __ATOMIC_ACQ_REL);
    __atomic_store_n(&a->pct_wait, 1u, __ATOMIC_RELEASE);
    __real_sched_yield();
    errno = saved;
}

/* One perturbation point: what the schedule decided for this process's next step. errno is kept:
 * a point right after a failed call must not change what the caller reads. */
static void ipcg_sync_perturb(void) {
    uint64_t step = ipcg_sync_next_step();
    if (ipcg_sync.mode == IPCG_SYNC_PCT) {
        if (ipcg_sync_change_point(ipcg_sync.seed, ipcg_sync.key, step, ipcg_sync.depth, ipcg_sync.horizon))
            ipcg_sync_pct_request();
        return;
    }
    struct ipcg_sync_decision d = ipcg_sync_decide(ipcg_sync.mode, ipcg_sync.seed, ipcg_sync.key, step);
    if (d.action == IPCG_SYNC_RUN_ON) return;
    int saved = errno;
    if (d.action == IPCG_SYNC_YIELD) {
        __real_sched_yield();
    } else {
        struct timespec ts = {0, (long)d.sleep_us * 1000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    errno = saved;
}

/* Where `addr` lies: its mapping's device, inode and the offset in the file, from /proc/self/maps
 * (once per object and process: a few system calls on an O_CLOEXEC descriptor, closed at once). */
static void ipcg_sync_locate(struct ipcg_sync_object *o, uint64_t addr) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[4096];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0) break;
        have += (size_t)n;
        buf[have] = '\0';
        char *line = buf, *end;
        while ((end = strchr(line, '\n')) != NULL) {
            *end = '\0';
            unsigned long long start = 0, stop = 0, off = 0, ino = 0;
            unsigned major = 0, minor = 0;
            char perms[8] = {0};
            if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &stop, perms, &off, &major, &minor, &ino) == 7 &&
                start <= addr && addr < stop) {
                o->dev_major = major;
                o->dev_minor = minor;
                o->inode = ino;
                o->offset = addr - start + off;
                o->where_found = perms[3] == 's' ? 1u : 2u;
                close(fd);
                return;
            }
            line = end + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
        if (have == sizeof buf - 1) have = 0;  /* a line longer than the buffer: skip it */
    }
    close(fd);
}

/* Counts one acquire (+units) or release (-units) of an object in this process's slot. */
static void ipcg_sync_note(uint32_t kind, uint64_t addr, int64_t semid, int32_t semnum, int64_t units) {
    struct ipcg_sync_actor *a = ipcg_sync.slot;
    if (a == NULL || units == 0) return;
    for (int i = 0; i < IPCG_SYNC_MAX_OBJECTS; i++) {
        struct ipcg_sync_object *o = &a->objects[i];
        uint32_t k = __atomic_load_n(&o->kind, __ATOMIC_ACQUIRE);
        if (k == 0) {
            /* Claimed first (so another thread cannot fill it at the same time), then filled,
             * then published with its kind. */
            uint32_t expected = 0;
            if (!__atomic_compare_exchange_n(&o->kind, &expected, IPCG_SYNC_OBJ_CLAIMING, 0, __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE))
                continue; /* another thread of this process took it first */
            o->addr = addr;
            o->semid = semid;
            o->semnum = semnum;
            if (kind != IPCG_SYNC_OBJ_SYSV) ipcg_sync_locate(o, addr);
            __atomic_store_n(&o->kind, kind, __ATOMIC_RELEASE);
            k = kind;
        }
        if (k != kind || o->addr != addr || o->semid != semid || o->semnum != semnum) continue;
        if (units > 0)
            __atomic_add_fetch(&o->acquired, units, __ATOMIC_RELAXED);
        else
            __atomic_add_fetch(&o->released, -units, __ATOMIC_RELAXED);
        return;
    }
}

static void ipcg_sync_note_sem(const void *s, int64_t units) {
    ipcg_sync_note(IPCG_SYNC_OBJ_SEM, (uint64_t)(uintptr_t)s, -1, -1, units);
}
static void ipcg_sync_note_mutex(const void *m, int64_t units) {
    ipcg_sync_note(IPCG_SYNC_OBJ_MUTEX, (uint64_t)(uintptr_t)m, -1, -1, units);
}
static void ipcg_sync_note_semop(int semid, const struct sembuf *sops, size_t nsops) {
    for (size_t i = 0; i < nsops; i++)
        ipcg_sync_note(IPCG_SYNC_OBJ_SYSV, 0, semid, sops[i].sem_num, -(int64_t)sops[i].sem_op);
}

/* What the process is about to block on, for the grader's explanation of a deadlock (kind 0
 * clears it). Written before the real call, so a process found asleep in it names the object. */
static void ipcg_sync_waits(uint32_t kind, const void *addr, int64_t semid, int32_t semnum) {
    struct ipcg_sync_actor *a = ipcg_sync.slot;
    if (a == NULL) return;
    a->waiting.addr = (uint64_t)(uintptr_t)addr;
    a->waiting.semid = semid;
    a->waiting.semnum = semnum;
    __atomic_store_n(&a->waiting.kind, kind, __ATOMIC_RELEASE);
}

/* ---- the wrapped calls: perturb, call, count, perturb ------------------------------------------ */

#define IPCG_SYNC_AROUND(call, on_success)  \
    do {                                    \
        ipcg_sync_perturb();                \
        int rc_ = (call);                   \
        if (rc_ == 0) { on_success; }       \
        ipcg_sync_perturb();                \
        return rc_;                         \
    } while (0)

/* A call that may block: the object it waits on is noted for its duration. */
#define IPCG_SYNC_WAIT(kind, addr, semid, semnum, call, on_success) \
    do {                                                            \
        ipcg_sync_perturb();                                        \
        ipcg_sync_waits(kind, addr, semid, semnum);                 \
        int rc_ = (call);                                           \
        int errno_ = errno;                                         \
        ipcg_sync_waits(0u, NULL, -1, -1);                          \
        if (rc_ == 0) { on_success; }                               \
        errno = errno_;                                             \
        ipcg_sync_perturb();                                        \
        return rc_;                                                 \
    } while (0)

int __wrap_sem_wait(sem_t *s) {
    IPCG_SYNC_WAIT(IPCG_SYNC_OBJ_SEM, s, -1, -1, __real_sem_wait(s), ipcg_sync_note_sem(s, 1));
}
int __wrap_sem_trywait(sem_t *s) { IPCG_SYNC_AROUND(__real_sem_trywait(s), ipcg_sync_note_sem(s, 1)); }
int __wrap_sem_timedwait(sem_t *s, const struct timespec *abstime) {
    IPCG_SYNC_WAIT(IPCG_SYNC_OBJ_SEM, s, -1, -1, __real_sem_timedwait(s, abstime), ipcg_sync_note_sem(s, 1));
}
int __wrap_sem_post(sem_t *s) { IPCG_SYNC_AROUND(__real_sem_post(s), ipcg_sync_note_sem(s, -1)); }

int __wrap_pthread_mutex_lock(pthread_mutex_t *m) {
    IPCG_SYNC_WAIT(IPCG_SYNC_OBJ_MUTEX, m, -1, -1, __real_pthread_mutex_lock(m), ipcg_sync_note_mutex(m, 1));
}
int __wrap_pthread_mutex_trylock(pthread_mutex_t *m) {
    IPCG_SYNC_AROUND(__real_pthread_mutex_trylock(m), ipcg_sync_note_mutex(m, 1));
}
int __wrap_pthread_mutex_unlock(pthread_mutex_t *m) {
    IPCG_SYNC_AROUND(__real_pthread_mutex_unlock(m), ipcg_sync_note_mutex(m, -1));
}
int __wrap_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
    IPCG_SYNC_AROUND(__real_pthread_cond_wait(c, m), (void)0);
}
int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime) {
    IPCG_SYNC_AROUND(__real_pthread_cond_timedwait(c, m, abstime), (void)0);
}
int __wrap_pthread_cond_signal(pthread_cond_t *c) { IPCG_SYNC_AROUND(__real_pthread_cond_signal(c), (void)0); }
int __wrap_pthread_cond_broadcast(pthread_cond_t *c) { IPCG_SYNC_AROUND(__real_pthread_cond_broadcast(c), (void)0); }

int __wrap_semop(int semid, struct sembuf *sops, size_t nsops) {
    IPCG_SYNC_WAIT(IPCG_SYNC_OBJ_SYSV, NULL, semid, nsops > 0 ? sops[0].sem_num : -1,
                   __real_semop(semid, sops, nsops), ipcg_sync_note_semop(semid, sops, nsops));
}
int __wrap_semtimedop(int semid, struct sembuf *sops, size_t nsops, const struct timespec *timeout) {
    IPCG_SYNC_WAIT(IPCG_SYNC_OBJ_SYSV, NULL, semid, nsops > 0 ? sops[0].sem_num : -1,
                   __real_semtimedop(semid, sops, nsops, timeout), ipcg_sync_note_semop(semid, sops, nsops));
}

/* A yield is a perturbation point itself; the call still yields. */
int __wrap_sched_yield(void) {
    ipcg_sync_perturb();
    return __real_sched_yield();
}

/* ---- sync_kit.h: the drivers' points and monitors --------------------------------------------- */

void ipcg_sync_point(const char *where) {
    (void)where;
    ipcg_sync_perturb();
}

static void ipcg_sync_violation(uint32_t kind, uint32_t index, int32_t pid_a, int64_t value) {
    struct ipcg_sync_monitor *m = ipcg_sync.monitor;
    if (m == NULL) return;
    uint32_t i = __atomic_fetch_add(&m->violations_seen, 1u, __ATOMIC_ACQ_REL);
    if (i >= IPCG_SYNC_MAX_VIOLATIONS) return;
    struct ipcg_sync_violation *v = &m->violations[i];
    v->index = index;
    v->pid_a = pid_a;
    v->pid_b = (int32_t)getpid();
    v->step = ipcg_sync_step();
    v->value = value;
    __atomic_store_n(&v->kind, kind, __ATOMIC_RELEASE);
}

void ipcg_cs_enter(unsigned section) {
    struct ipcg_sync_monitor *m = ipcg_sync.monitor;
    if (m == NULL || section >= IPCG_SYNC_MAX_SECTIONS) return;
    struct ipcg_sync_section *s = &m->sections[section];
    const int32_t me = (int32_t)getpid();
    for (int i = 0; i < IPCG_SYNC_SECTION_PIDS; i++) {
        int32_t free_slot = 0;
        if (__atomic_compare_exchange_n(&s->pids[i], &free_slot, me, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) break;
    }
    int32_t before = __atomic_fetch_add(&s->inside, 1, __ATOMIC_ACQ_REL);
    if (before > 0) {
        int32_t other = 0;
        for (int i = 0; i < IPCG_SYNC_SECTION_PIDS && other == 0; i++) {
            int32_t p = __atomic_load_n(&s->pids[i], __ATOMIC_ACQUIRE);
            if (p != 0 && p != me) other = p;
        }
        ipcg_sync_violation(IPCG_SYNC_V_TWO_INSIDE, section, other, before + 1);
    }
    __atomic_add_fetch(&s->entries, 1u, __ATOMIC_RELAXED);
    /* Inside the section: a perturbation here widens the window another process would need. */
    ipcg_sync_perturb();
}

void ipcg_cs_exit(unsigned section) {
    struct ipcg_sync_monitor *m = ipcg_sync.monitor;
    if (m == NULL || section >= IPCG_SYNC_MAX_SECTIONS) return;
    struct ipcg_sync_section *s = &m->sections[section];
    const int32_t me = (int32_t)getpid();
    for (int i = 0; i < IPCG_SYNC_SECTION_PIDS; i++) {
        int32_t mine = me;
        if (__atomic_compare_exchange_n(&s->pids[i], &mine, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) break;
    }
    __atomic_sub_fetch(&s->inside, 1, __ATOMIC_ACQ_REL);
}

static struct ipcg_sync_buffer *ipcg_sync_buffer_at(unsigned buffer) {
    if (ipcg_sync.monitor == NULL || buffer >= IPCG_SYNC_MAX_BUFFERS) return NULL;
    return &ipcg_sync.monitor->buffers[buffer];
}

void ipcg_count_put_begin(unsigned buffer) {
    struct ipcg_sync_buffer *b = ipcg_sync_buffer_at(buffer);
    if (b != NULL) __atomic_add_fetch(&b->puts_started, 1, __ATOMIC_ACQ_REL);
}

void ipcg_count_get_begin(unsigned buffer) {
    struct ipcg_sync_buffer *b = ipcg_sync_buffer_at(buffer);
    if (b != NULL) __atomic_add_fetch(&b->gets_started, 1, __ATOMIC_ACQ_REL);
}

void ipcg_count_put(unsigned buffer, long capacity) {
    struct ipcg_sync_buffer *b = ipcg_sync_buffer_at(buffer);
    if (b == NULL) return;
    __atomic_store_n(&b->capacity, (int64_t)capacity, __ATOMIC_RELAXED);
    int64_t done = __atomic_add_fetch(&b->puts_done, 1, __ATOMIC_ACQ_REL);
    int64_t at_least = done - __atomic_load_n(&b->gets_started, __ATOMIC_ACQUIRE);
    if (at_least > capacity) ipcg_sync_violation(IPCG_SYNC_V_OVERFLOW, buffer, 0, at_least);
}

void ipcg_count_get(unsigned buffer) {
    struct ipcg_sync_buffer *b = ipcg_sync_buffer_at(buffer);
    if (b == NULL) return;
    int64_t done = __atomic_add_fetch(&b->gets_done, 1, __ATOMIC_ACQ_REL);
    int64_t at_most = __atomic_load_n(&b->puts_started, __ATOMIC_ACQUIRE) - done;
    if (at_most < 0) ipcg_sync_violation(IPCG_SYNC_V_UNDERFLOW, buffer, 0, at_most);
}
