/* Trusted driver of part B (readers-writers), linked with the implementation under test.
 *
 *   rw [--board PATH] [--seed S] [--actor N] [--eintr] MODE KEY [COUNT] [OPTIONS]
 *
 * Modes:
 *   create KEY          rw_open(create)
 *   reader KEY COUNT    rw_open, then up to COUNT read sections; stops early once the board says
 *                       --until-writers W writers are done; with --together N, each section
 *                       waits inside until N readers are inside at once (or the grader releases);
 *                       with --hold-us U, each stays inside U/2 to U microseconds (seeded)
 *   writer KEY COUNT    rw_open, then COUNT write sections, a seeded pause before each
 *   remove KEY          rw_open, rw_remove
 * Every section is logged on the board (asked, in, out); the board counts readers and writers
 * inside and records a writer that was not alone. Reports on fd 3: "call X", "error X ERRNO",
 * "inside", "done N". */
#include "lab7_driver.h"

#include "semlab.h"

static void reader_in(int step) {
    __atomic_fetch_add(&board->readers_in, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&board->writers_in, __ATOMIC_SEQ_CST) > 0)
        note_overlap(&board->writer_not_alone, __atomic_load_n(&board->inside_pid, __ATOMIC_SEQ_CST), step);
    int now = __atomic_load_n(&board->readers_in, __ATOMIC_SEQ_CST), max;
    while ((max = __atomic_load_n(&board->max_readers_in, __ATOMIC_SEQ_CST)) < now &&
           !__atomic_compare_exchange_n(&board->max_readers_in, &max, now, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    log_event(LAB7_READ_IN, step);
}

static void reader_out(int step) {
    log_event(LAB7_READ_OUT, step);
    __atomic_fetch_sub(&board->readers_in, 1, __ATOMIC_SEQ_CST);
}

static void writer_in(int step) {
    int others = __atomic_fetch_add(&board->writers_in, 1, __ATOMIC_SEQ_CST);
    others += __atomic_load_n(&board->readers_in, __ATOMIC_SEQ_CST);
    if (others > 0) note_overlap(&board->writer_not_alone, __atomic_load_n(&board->inside_pid, __ATOMIC_SEQ_CST), step);
    __atomic_store_n(&board->inside_pid, (int32_t)getpid(), __ATOMIC_SEQ_CST);
    log_event(LAB7_WRITE_IN, step);
}

static void writer_out(int step) {
    log_event(LAB7_WRITE_OUT, step);
    __atomic_fetch_sub(&board->writers_in, 1, __ATOMIC_SEQ_CST);
}

/* Inside until `want` readers have been inside at once (the first to leave must not strand the
 * other, so the board's maximum, not the count now), or the grader's release. */
static void wait_together(int want) {
    while (__atomic_load_n(&board->max_readers_in, __ATOMIC_SEQ_CST) < want &&
           !__atomic_load_n(&board->release, __ATOMIC_SEQ_CST)) {
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
}

int main(int argc, char **argv) {
    driver_setup();
    int i = common_options(argc, argv);
    if (i + 1 >= argc) { fprintf(stderr, "rw: MODE KEY [COUNT]\n"); return 2; }
    const char *mode = argv[i];
    const key_t key = (key_t)strtol(argv[i + 1], NULL, 0);
    const long count = i + 2 < argc ? atol(argv[i + 2]) : 1;
    int together = 0, until_writers = 0, hold_us = 0;
    for (i += 3; i < argc; i++) {
        if (!strcmp(argv[i], "--together") && i + 1 < argc) together = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--until-writers") && i + 1 < argc) until_writers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hold-us") && i + 1 < argc) hold_us = atoi(argv[++i]);
        else { fprintf(stderr, "rw: unknown option %s\n", argv[i]); return 2; }
    }
    struct rw l;
    memset(&l, 0, sizeof l);
    if (!strcmp(mode, "create")) {
        CALL(rw_open, &l, key, 1);
        dprintf(CONTROL_FD, "done 0\n");
        return 0;
    }
    CALL(rw_open, &l, key, 0);
    long done = 0;
    if (!strcmp(mode, "reader")) {
        for (int step = 0; step < count; step++) {
            if (until_writers && __atomic_load_n(&board->writers_done, __ATOMIC_SEQ_CST) >= until_writers) break;
            log_event(LAB7_READ_ASK, step);
            CALL(rw_read_lock, &l);
            reader_in(step);
            dprintf(CONTROL_FD, "inside\n");
            if (together) wait_together(together);
            else if (hold_us > 0) lab7_hold((unsigned)hold_us);
            else lab7_pause(400);
            reader_out(step);
            CALL(rw_read_unlock, &l);
            done++;
        }
    } else if (!strcmp(mode, "writer")) {
        for (int step = 0; step < count; step++) {
            lab7_pause(2000);
            log_event(LAB7_WRITE_ASK, step);
            CALL(rw_write_lock, &l);
            writer_in(step);
            lab7_pause(300);
            writer_out(step);
            CALL(rw_write_unlock, &l);
            done++;
        }
        __atomic_fetch_add(&board->writers_done, 1, __ATOMIC_SEQ_CST);
    } else if (!strcmp(mode, "remove")) {
        CALL(rw_remove, &l);
    } else {
        fprintf(stderr, "rw: unknown mode %s\n", mode);
        return 2;
    }
    dprintf(CONTROL_FD, "done %ld\n", done);
    return 0;
}
