/* Trusted driver of a Part B writer, linked with the implementation under test.
 *
 *   writer [--create] [--adds N] [--id W] [--sync] [--eintr] [--gate-open] PATH
 *
 * --create: mm_region_create(PATH) first. Then mm_region_open, N times mm_add(W, seq) with seq
 * 0..N-1, and with --sync mm_sync then a stop at "gate synced" (the grader kills the writer
 * there). Stops at "gate open" after opening with --gate-open. --eintr: SIGUSR1 without
 * SA_RESTART. Reports "status <step>" or "error <step> <errno>" for each step, "added N",
 * "done". */
#include "lab5_driver.h"

#include "mmlab.h"

static int step(const char *name, int rc) {
    if (rc == 0) dprintf(CONTROL_FD, "status %s\n", name);
    else dprintf(CONTROL_FD, "error %s %d\n", name, errno);
    return rc;
}

int main(int argc, char **argv) {
    driver_setup();
    int i = 1, create = 0, sync = 0, gate_open = 0;
    long adds = 0;
    unsigned id = 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        const int v = i + 1 < argc;
        if (!strcmp(o, "--create")) create = 1;
        else if (!strcmp(o, "--sync")) sync = 1;
        else if (!strcmp(o, "--gate-open")) gate_open = 1;
        else if (!strcmp(o, "--eintr")) ipcg_catch_sigusr1_without_restart();
        else if (!strcmp(o, "--adds") && v) adds = atol(argv[++i]);
        else if (!strcmp(o, "--id") && v) id = (unsigned)atol(argv[++i]);
        else { fprintf(stderr, "writer: unknown option %s\n", o); return 2; }
    }
    if (i >= argc) { fprintf(stderr, "writer: no path\n"); return 2; }
    const char *path = argv[i];
    if (create) {
        report_call("mm_region_create");
        if (step("create", mm_region_create(path)) != 0) return 1;
    }
    report_call("mm_region_open");
    struct mm_region *r = mm_region_open(path);
    if (step("open", r ? 0 : -1) != 0) return 1;
    if (gate_open) gate("open");
    for (long s = 0; s < adds; s++) {
        report_call("mm_add");
        if (mm_add(r, id, (uint32_t)s) != 0) {
            dprintf(CONTROL_FD, "error add %d\n", errno);
            return 1;
        }
    }
    dprintf(CONTROL_FD, "added %ld\n", adds);
    if (sync) {
        report_call("mm_sync");
        if (step("sync", mm_sync(r)) != 0) return 1;
        gate("synced");
    }
    report_call("mm_region_close");
    if (step("close", mm_region_close(r)) != 0) return 1;
    dprintf(CONTROL_FD, "done\n");
    return 0;
}
