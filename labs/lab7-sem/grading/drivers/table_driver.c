/* Trusted driver of part D (dining philosophers), linked with the implementation under test.
 *
 *   table [--board PATH] [--seed S] [--actor N] [--eintr] [--no-gong] MODE KEY N [SEAT MEALS [THINK_US EAT_US]]
 *
 * Modes:
 *   create KEY N             table_open(create)
 *   dine KEY N SEAT MEALS    table_open, then MEALS times: the gong (all n start the meal
 *                            together; --no-gong: no gong, for a table where not all n dine),
 *                            a seeded pause of up to THINK_US
 *                            (thinking, default 300), table_pick, eating marked on the board (a
 *                            neighbour eating at the same time is recorded), a seeded sleep of
 *                            EAT_US/2 to EAT_US (eating, default 300), table_put
 *   hold KEY N SEAT          table_open, table_pick, eating marked on the board, reports
 *                            "eating", then sleeps until the grader kills it (or releases it:
 *                            table_put)
 *   remove KEY N             table_open, table_remove
 * Reports on fd 3: "call X", "error X ERRNO", "eating", "done MEALS". */
#include "lab7_driver.h"

#include "semlab.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>

/* The dinner gong: every philosopher waits here until all n arrived for meal m, then all are
 * woken at once (one futex wake on the board), so that they reach for their forks together. A
 * table that can deadlock then does so within a few meals; a correct one never does. */
static void gong(int meal, int n) {
    int32_t *arrived = &board->arrived[meal % LAB7_PHASES];
    int32_t v = __atomic_add_fetch(arrived, 1, __ATOMIC_SEQ_CST);
    if (v >= n) {
        syscall(SYS_futex, arrived, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
        return;
    }
    while ((v = __atomic_load_n(arrived, __ATOMIC_SEQ_CST)) < n)
        syscall(SYS_futex, arrived, FUTEX_WAIT, v, NULL, NULL, 0);
}

int main(int argc, char **argv) {
    driver_setup();
    int i = common_options(argc, argv);
    const int no_gong = i < argc && !strcmp(argv[i], "--no-gong");
    if (no_gong) i++;
    if (i + 2 >= argc) { fprintf(stderr, "table: MODE KEY N [SEAT MEALS]\n"); return 2; }
    const char *mode = argv[i];
    const key_t key = (key_t)strtol(argv[i + 1], NULL, 0);
    const int n = atoi(argv[i + 2]);
    const int seat = i + 3 < argc ? atoi(argv[i + 3]) : 0;
    const int meals = i + 4 < argc ? atoi(argv[i + 4]) : 0;
    const unsigned think_us = i + 5 < argc ? (unsigned)atoi(argv[i + 5]) : 300;
    const unsigned eat_us = i + 6 < argc ? (unsigned)atoi(argv[i + 6]) : 300;
    struct table t;
    memset(&t, 0, sizeof t);
    CALL(table_open, &t, key, n, !strcmp(mode, "create"));
    if (!strcmp(mode, "dine")) {
        const int left = (seat + n - 1) % n, right = (seat + 1) % n;
        for (int m = 0; m < meals; m++) {
            if (!no_gong) gong(m, n);
            lab7_pause(think_us);
            CALL(table_pick, &t, seat);
            __atomic_store_n(&board->eating[seat], (int32_t)getpid(), __ATOMIC_SEQ_CST);
            int32_t other = __atomic_load_n(&board->eating[left], __ATOMIC_SEQ_CST);
            if (!other) other = __atomic_load_n(&board->eating[right], __ATOMIC_SEQ_CST);
            if (other) note_overlap(&board->neighbours, other, seat);
            board->meals[seat]++;
            lab7_hold(eat_us);
            __atomic_store_n(&board->eating[seat], 0, __ATOMIC_SEQ_CST);
            CALL(table_put, &t, seat);
        }
    } else if (!strcmp(mode, "hold")) {
        /* The grader kills this philosopher while it eats: its forks must come back (SEM_UNDO). */
        CALL(table_pick, &t, seat);
        __atomic_store_n(&board->eating[seat], (int32_t)getpid(), __ATOMIC_SEQ_CST);
        dprintf(CONTROL_FD, "eating\n");
        wait_for_release();
        __atomic_store_n(&board->eating[seat], 0, __ATOMIC_SEQ_CST);
        CALL(table_put, &t, seat);
    } else if (!strcmp(mode, "remove")) {
        CALL(table_remove, &t);
    }
    dprintf(CONTROL_FD, "done %d\n", meals);
    return 0;
}
