/* What lab4's trusted drivers add to the harness's driver kit: the message log fd (4), the
 * records' tags and checksums, stop records, and the synchronization checker's hooks. Header-only:
 * each driver is one C file linked with the implementation under test (the student's or the
 * reference's). */
#ifndef IPCGRADE_LAB4_DRIVER_H
#define IPCGRADE_LAB4_DRIVER_H

#include "driver_kit.h"      /* the harness's, written beside the drivers when they are built */
#include "msglog_record.h"  /* likewise: the trusted message log's record */

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "shmring.h"

/* The synchronization checker's driver side (harness sync_kit.h, written beside the drivers and
 * linked with lab.toml's `interpose_sync`): a perturbation point before and after every call into
 * the implementation, and the bounded-buffer monitor (buffer 0, the ring) around puts and gets. */
#include "sync_kit.h"

enum { RING_BUFFER = 0 };

enum { CONTROL_FD = IPCG_CONTROL_FD, LOG_FD = 4 };
enum { ROLE_PRODUCER = 1, ROLE_CONSUMER = 2 };
/* A stop record's producer field: a consumer that gets one returns (the grader has the last
 * producer put one per consumer once every other record is in). */
#define STOP_PRODUCER 0xfffffff0u

/* Nothing the implementation starts inherits the grader's fds; objects are made for every uid. */
static inline void driver_setup(void) {
    ipcg_control_setup();
    fcntl(LOG_FD, F_SETFD, FD_CLOEXEC);
    umask(0);
}

/* 32-bit FNV-1a of the record's tag and payload: what a whole record carries. */
static inline uint32_t record_checksum(const struct ring_record *rec) {
    uint32_t h = 2166136261u;
    const unsigned char *p = (const unsigned char *)&rec->seq;
    for (size_t i = 0; i < sizeof rec->seq; i++) h = (h ^ p[i]) * 16777619u;
    p = (const unsigned char *)&rec->producer;
    for (size_t i = 0; i < sizeof rec->producer; i++) h = (h ^ p[i]) * 16777619u;
    for (size_t i = 0; i < sizeof rec->payload; i++) h = (h ^ rec->payload[i]) * 16777619u;
    return h;
}

/* Record `seq` of producer `producer`: its payload is a function of the tag, so any two records
 * differ in most of their bytes (a torn record mixes two). */
static inline void make_record(struct ring_record *rec, uint32_t producer, uint64_t seq) {
    memset(rec, 0, sizeof *rec);
    rec->producer = producer;
    rec->seq = seq;
    uint64_t x = ((uint64_t)producer << 32) ^ (seq * 0x9e3779b97f4a7c15ull) ^ 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < sizeof rec->payload; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        rec->payload[i] = (unsigned char)x;
    }
    rec->checksum = record_checksum(rec);
}

static inline void log_record(struct ipcg_msg_record *r) {
    if (ipcg_msg_write(LOG_FD, r) != 0) dprintf(CONTROL_FD, "log-lost %d\n", errno);
}

#define report_call ipcg_report_call

#endif
