/* HOSTILE SUBMISSION (tests/hostile/include_reference): a one-line cheat at compile time.
 * The grader builds the reference solution in the work folder next to the student's build folder,
 * so "../reference/pipeline.c" (relative to this file in the build folder) is the reference's own
 * source: included here, it is compiled as the submission. The reference's sources must not be
 * reachable from the student's build: the build must fail. */
#include "../reference/pipeline.c"
