/* Trusted driver of part A (the critical section), linked with the implementation under test.
 *
 *   cs [--board PATH] [--seed S] [--actor N] [--eintr] [--spare-fds N] MODE NAME [COUNT]
 *
 * Modes:
 *   create NAME        cs_create, cs_close
 *   loop NAME COUNT    cs_open, then COUNT times cs_enter, the driver's own increment of the
 *                      board's counter (read, seeded pause, write), cs_leave; cs_close
 *   add NAME COUNT     cs_open, then COUNT times cs_add(1); cs_close
 *   hold NAME          cs_open, cs_enter, reports "inside", waits for the grader's release, cs_leave
 *   wait NAME          cs_open, reports "waiting", cs_enter, reports "inside", cs_leave, cs_close
 *   remove NAME        cs_remove
 * The board counts the processes inside (entered: cs_enter returned; left: before cs_leave) and
 * records the first overlap. Reports on fd 3: "call X", "error X ERRNO", "inside", "done". */
#include "lab7_driver.h"

#include "semlab.h"

static int step;

static void came_in(void) {
    int prev = __atomic_fetch_add(&board->inside, 1, __ATOMIC_SEQ_CST);
    if (prev > 0) note_overlap(&board->cs, __atomic_load_n(&board->inside_pid, __ATOMIC_SEQ_CST), step);
    __atomic_store_n(&board->inside_pid, (int32_t)getpid(), __ATOMIC_SEQ_CST);
    ipcg_cs_enter(0);
}

static void going_out(void) {
    ipcg_cs_exit(0);
    __atomic_fetch_sub(&board->inside, 1, __ATOMIC_SEQ_CST);
}

int main(int argc, char **argv) {
    driver_setup();
    const int i = common_options(argc, argv);
    if (i + 1 >= argc) { fprintf(stderr, "cs: MODE NAME [COUNT]\n"); return 2; }
    const char *mode = argv[i], *name = argv[i + 1];
    const long count = i + 2 < argc ? atol(argv[i + 2]) : 1;
    struct cs c;
    memset(&c, 0, sizeof c);
    if (!strcmp(mode, "remove")) {
        CALL(cs_remove, name);
        return 0;
    }
    if (!strcmp(mode, "create")) {
        if (spare_fds >= 0) ipcg_leave_spare_fds(spare_fds);
        CALL(cs_create, &c, name);
        CALL(cs_close, &c);
        dprintf(CONTROL_FD, "done\n");
        return 0;
    }
    CALL(cs_open, &c, name);
    if (!strcmp(mode, "loop")) {
        for (step = 0; step < count; step++) {
            CALL(cs_enter, &c);
            came_in();
            int64_t v = __atomic_load_n(&board->counter, __ATOMIC_SEQ_CST);
            lab7_pause(200);
            __atomic_store_n(&board->counter, v + 1, __ATOMIC_SEQ_CST);
            going_out();
            CALL(cs_leave, &c);
        }
    } else if (!strcmp(mode, "add")) {
        for (step = 0; step < count; step++) CALL(cs_add, &c, 1);
    } else if (!strcmp(mode, "hold")) {
        CALL(cs_enter, &c);
        came_in();
        dprintf(CONTROL_FD, "inside\n");
        wait_for_release();
        going_out();
        CALL(cs_leave, &c);
    } else if (!strcmp(mode, "wait")) {
        dprintf(CONTROL_FD, "waiting\n");
        CALL(cs_enter, &c);
        came_in();
        dprintf(CONTROL_FD, "inside\n");
        going_out();
        CALL(cs_leave, &c);
    } else {
        fprintf(stderr, "cs: unknown mode %s\n", mode);
        return 2;
    }
    CALL(cs_close, &c);
    dprintf(CONTROL_FD, "done\n");
    return 0;
}
