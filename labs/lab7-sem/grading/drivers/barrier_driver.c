/* Trusted driver of part C (the reusable barrier), linked with the implementation under test.
 *
 *   barrier [--board PATH] [--seed S] [--actor N] [--eintr] MODE NAME N [PHASES]
 *
 * Modes:
 *   create NAME N          barrier_open(create), barrier_close
 *   run NAME N PHASES      barrier_open, then PHASES times: a seeded pause, the arrival counted on
 *                          the board, barrier_wait; after it returns, the arrivals of that phase
 *                          must be N (else the board records who returned early); barrier_close
 *   remove NAME N          barrier_remove
 * Reports on fd 3: "call X", "error X ERRNO", "done PHASES". */
#include "lab7_driver.h"

#include "semlab.h"

int main(int argc, char **argv) {
    driver_setup();
    const int i = common_options(argc, argv);
    if (i + 2 >= argc) { fprintf(stderr, "barrier: MODE NAME N [PHASES]\n"); return 2; }
    const char *mode = argv[i], *name = argv[i + 1];
    const int n = atoi(argv[i + 2]);
    const int phases = i + 3 < argc ? atoi(argv[i + 3]) : 0;
    struct barrier b;
    memset(&b, 0, sizeof b);
    if (!strcmp(mode, "remove")) {
        CALL(barrier_remove, name);
        return 0;
    }
    CALL(barrier_open, &b, name, n, !strcmp(mode, "create"));
    if (!strcmp(mode, "run")) {
        for (int k = 0; k < phases && k < LAB7_PHASES; k++) {
            lab7_pause(50);
            __atomic_fetch_add(&board->arrived[k], 1, __ATOMIC_SEQ_CST);
            CALL(barrier_wait, &b);
            const int arrived = __atomic_load_n(&board->arrived[k], __ATOMIC_SEQ_CST);
            if (arrived < n) {
                if (__atomic_load_n(&board->early.count, __ATOMIC_SEQ_CST) == 0) board->early_arrived = arrived;
                note_overlap(&board->early, 0, k);
            }
        }
    }
    CALL(barrier_close, &b);
    dprintf(CONTROL_FD, "done %d\n", phases);
    return 0;
}
