/* Trusted driver of a producer, linked with the implementation under test.
 *
 *   producer [OPTIONS] NAME
 *
 * Opens the ring NAME (ring_open, or ring_create with --create) and puts --count records tagged
 * (--id, --seq ...), then --stops stop records. Logs each record it put (ring_put returned 0) on
 * fd 4, with the record's digest. Reports on fd 3: "call X" before each call, "opened",
 * "error <step> <errno>", "done <records>".
 *
 * Options:
 *   --create CAP      ring_create(NAME, CAP) instead of ring_open
 *   --capacity CAP    the ring's capacity, for the bounded-buffer monitor (default: --create's)
 *   --id P            the producer id in the tags (default 1)
 *   --seq N           the first sequence number (default 0)
 *   --count N         records to put (default 0)
 *   --stops K         then K stop records (one per consumer)
 *   --close           ring_close at the end
 *   --destroy         ring_close and ring_destroy(NAME) at the end
 *   --spare-fds N     lower RLIMIT_NOFILE first so that only N descriptors are free
 *   --as-spare-kb K   lower RLIMIT_AS first so that only K KiB more can be mapped (a mapping of
 *                     the ring fails with ENOMEM)
 *   --eintr           SIGUSR1 without SA_RESTART */
#include "lab4_driver.h"

#include <sys/resource.h>

static int put_one(struct ring *r, const struct ring_record *rec, int logged, long capacity) {
    struct ipcg_msg_record m = ipcg_msg_begin(IPCG_MSG_SEND, ROLE_PRODUCER);
    m.producer = rec->producer;
    m.seq = rec->seq;
    ipcg_sync_point("ring_put");
    ipcg_count_put_begin(RING_BUFFER);
    report_call("ring_put");
    int rc = ring_put(r, rec);
    if (rc == 0) ipcg_count_put(RING_BUFFER, capacity);
    ipcg_sync_point("ring_put returned");
    ipcg_msg_end(&m, rec, sizeof *rec);
    if (rc != 0) {
        dprintf(CONTROL_FD, "error put %d\n", errno);
        return -1;
    }
    dprintf(CONTROL_FD, "put\n");
    if (logged) log_record(&m);
    return 0;
}

int main(int argc, char **argv) {
    driver_setup();
    long create = -1, capacity = RING_MAX_CAPACITY, count = 0, stops = 0, spare_fds = -1, as_spare_kb = -1;
    int close_it = 0, destroy = 0;
    uint32_t id = 1;
    uint64_t seq = 0;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        const int v = i + 1 < argc;
        if (!strcmp(o, "--create") && v) capacity = create = atol(argv[++i]);
        else if (!strcmp(o, "--capacity") && v) capacity = atol(argv[++i]);
        else if (!strcmp(o, "--id") && v) id = (uint32_t)atol(argv[++i]);
        else if (!strcmp(o, "--seq") && v) seq = (uint64_t)atoll(argv[++i]);
        else if (!strcmp(o, "--count") && v) count = atol(argv[++i]);
        else if (!strcmp(o, "--stops") && v) stops = atol(argv[++i]);
        else if (!strcmp(o, "--spare-fds") && v) spare_fds = atol(argv[++i]);
        else if (!strcmp(o, "--as-spare-kb") && v) as_spare_kb = atol(argv[++i]);
        else if (!strcmp(o, "--close")) close_it = 1;
        else if (!strcmp(o, "--destroy")) destroy = 1;
        else if (!strcmp(o, "--eintr")) ipcg_catch_sigusr1_without_restart();
        else { fprintf(stderr, "producer: unknown option %s\n", o); return 2; }
    }
    if (i >= argc) { fprintf(stderr, "producer: no ring name\n"); return 2; }
    const char *name = argv[i];
    if (as_spare_kb >= 0) ipcg_leave_spare_address_space((unsigned long)as_spare_kb << 10);
    if (spare_fds >= 0) ipcg_leave_spare_fds((int)spare_fds);
    struct ring r;
    memset(&r, 0, sizeof r);
    r.fd = -1;
    int rc;
    ipcg_sync_point(create >= 0 ? "ring_create" : "ring_open");
    if (create >= 0) {
        report_call("ring_create");
        rc = ring_create(&r, name, (unsigned)create);
    } else {
        report_call("ring_open");
        rc = ring_open(&r, name);
    }
    ipcg_sync_point("opened");
    if (rc != 0) {
        dprintf(CONTROL_FD, "error %s %d\n", create >= 0 ? "create" : "open", errno);
        return 1;
    }
    dprintf(CONTROL_FD, "opened\n");
    struct ring_record rec;
    long n = 0;
    for (; n < count; n++) {
        make_record(&rec, id, seq + (uint64_t)n);
        if (put_one(&r, &rec, 1, capacity) != 0) return 1;
    }
    for (long k = 0; k < stops; k++) {
        make_record(&rec, STOP_PRODUCER, (uint64_t)k);
        if (put_one(&r, &rec, 0, capacity) != 0) return 1;
    }
    if (close_it || destroy) {
        report_call("ring_close");
        if (ring_close(&r) != 0) dprintf(CONTROL_FD, "error close %d\n", errno);
    }
    if (destroy) {
        report_call("ring_destroy");
        if (ring_destroy(name) != 0) dprintf(CONTROL_FD, "error destroy %d\n", errno);
    }
    dprintf(CONTROL_FD, "done %ld\n", n);
    return 0;
}
