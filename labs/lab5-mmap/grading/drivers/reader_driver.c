/* Trusted driver of a Part B reader, linked with the implementation under test.
 *
 *   reader PATH
 *
 * mm_region_open(PATH) once, reports "count <mm_count>", stops at "gate open" (the grader lets
 * writers update the file meanwhile), then reports "count <mm_count>" again through the same
 * mapping, closes and reports "done". */
#include "lab5_driver.h"

#include <inttypes.h>

#include "mmlab.h"

int main(int argc, char **argv) {
    driver_setup();
    if (argc != 2) { fprintf(stderr, "reader: PATH\n"); return 2; }
    report_call("mm_region_open");
    struct mm_region *r = mm_region_open(argv[1]);
    if (!r) {
        dprintf(CONTROL_FD, "error open %d\n", errno);
        return 1;
    }
    report_call("mm_count");
    dprintf(CONTROL_FD, "count %" PRIu64 "\n", mm_count(r));
    gate("open");
    report_call("mm_count");
    dprintf(CONTROL_FD, "count %" PRIu64 "\n", mm_count(r));
    report_call("mm_region_close");
    if (mm_region_close(r) != 0) {
        dprintf(CONTROL_FD, "error close %d\n", errno);
        return 1;
    }
    dprintf(CONTROL_FD, "done\n");
    return 0;
}
