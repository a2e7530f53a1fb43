/* The synchronization checker's side for a lab's trusted drivers (C). The runner writes this file
 * beside the drivers; its functions are defined in sync_interposer.c, which the runner links into
 * every program of a lab whose lab.toml says `[build] interpose_sync = true` (without it, calling
 * them does not link).
 *
 *   ipcg_sync_point("put");            // right before a call into the student's API ...
 *   rc = ring_put(ring, &rec);
 *   ipcg_sync_point("put");            // ... and right after it: the schedule may yield or sleep
 *   ipcg_cs_enter(0);                  // right after the student's lock returned
 *   counter->value++;
 *   ipcg_cs_exit(0);                   // right before the student's unlock
 *   ipcg_count_put_begin(0); ring_put(...); ipcg_count_put(0, capacity);   // bounded buffer
 *   ipcg_count_get_begin(0); ring_get(...); ipcg_count_get(0);
 *
 * Violations (two processes inside one section; a get that returned an item no put had started; a
 * put that returned with more than capacity items in) are recorded in the grader's monitor
 * mapping (fd 5 at start, closed once mapped); the grader judges them. Without IPCG_SYNC in the
 * environment or fd 5, every function here does nothing. */
#ifndef IPCG_SYNC_KIT_H
#define IPCG_SYNC_KIT_H

#ifdef __cplusplus
extern "C" {
#endif

/* A perturbation point: the schedule (IPCG_SYNC mode and seed) may run on, yield or sleep here. */
void ipcg_sync_point(const char *where);

void ipcg_cs_enter(unsigned section);
void ipcg_cs_exit(unsigned section);

void ipcg_count_put_begin(unsigned buffer);
void ipcg_count_put(unsigned buffer, long capacity); /* after the put returned */
void ipcg_count_get_begin(unsigned buffer);
void ipcg_count_get(unsigned buffer);                /* after the get returned */

#ifdef __cplusplus
}
#endif

#endif
