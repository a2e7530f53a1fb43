/* Trusted driver of a consumer, linked with the implementation under test.
 *
 *   consumer [OPTIONS] NAME
 *
 * Opens the ring NAME (ring_open) and gets records until it has --count of them or gets a stop
 * record. Logs each record it got on fd 4 (the tag read from the record, the digest of all its
 * bytes: the grader compares it with what the producer put). Reports on fd 3: "call X",
 * "opened", "got", "torn <producer> <seq>" (checksum wrong), "error <step> <errno>",
 * "done <records>".
 *
 * Options:
 *   --count N         return after N records (default: at a stop record)
 *   --eintr           SIGUSR1 without SA_RESTART
 *   --until-open      when ring_open fails, report "not-open <errno>", stop at a gate (SIGSTOP)
 *                     and try again once continued */
#include "lab4_driver.h"

static int open_ring(struct ring *r, const char *name, int until_open) {
    for (;;) {
        ipcg_sync_point("ring_open");
        report_call("ring_open");
        int rc = ring_open(r, name);
        ipcg_sync_point("ring_open returned");
        if (rc == 0) return 0;
        if (!until_open) {
            dprintf(CONTROL_FD, "error open %d\n", errno);
            return -1;
        }
        dprintf(CONTROL_FD, "not-open %d\n", errno);
        ipcg_gate();
    }
}

int main(int argc, char **argv) {
    driver_setup();
    long count = -1;
    int until_open = 0, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        const int v = i + 1 < argc;
        if (!strcmp(o, "--count") && v) count = atol(argv[++i]);
        else if (!strcmp(o, "--eintr")) ipcg_catch_sigusr1_without_restart();
        else if (!strcmp(o, "--until-open")) until_open = 1;
        else { fprintf(stderr, "consumer: unknown option %s\n", o); return 2; }
    }
    if (i >= argc) { fprintf(stderr, "consumer: no ring name\n"); return 2; }
    struct ring r;
    memset(&r, 0, sizeof r);
    r.fd = -1;
    if (open_ring(&r, argv[i], until_open) != 0) return 1;
    dprintf(CONTROL_FD, "opened\n");
    long n = 0;
    struct ring_record rec;
    while (count < 0 || n < count) {
        memset(&rec, 0, sizeof rec);
        struct ipcg_msg_record m = ipcg_msg_begin(IPCG_MSG_RECEIVE, ROLE_CONSUMER);
        ipcg_sync_point("ring_get");
        ipcg_count_get_begin(RING_BUFFER);
        report_call("ring_get");
        int rc = ring_get(&r, &rec);
        if (rc == 0) ipcg_count_get(RING_BUFFER);
        ipcg_sync_point("ring_get returned");
        ipcg_msg_end(&m, &rec, sizeof rec);
        if (rc != 0) {
            dprintf(CONTROL_FD, "error get %d\n", errno);
            return 1;
        }
        if (rec.producer == STOP_PRODUCER && rec.checksum == record_checksum(&rec)) break;
        m.producer = rec.producer;
        m.seq = rec.seq;
        if (rec.checksum != record_checksum(&rec))
            dprintf(CONTROL_FD, "torn %" PRIu32 " %" PRIu64 "\n", rec.producer, rec.seq);
        else
            dprintf(CONTROL_FD, "got\n");
        log_record(&m);
        n++;
    }
    report_call("ring_close");
    if (ring_close(&r) != 0) dprintf(CONTROL_FD, "error close %d\n", errno);
    dprintf(CONTROL_FD, "done %ld\n", n);
    return 0;
}
