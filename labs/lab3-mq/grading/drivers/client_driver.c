/* Trusted driver of a System V client, linked with the implementation under test.
 *
 *   client [--eintr] [--create] KEY ID COUNT
 *
 * Sends COUNT requests (route_request: "<ID> P<ID>:S<k>:<words>"), then takes COUNT replies of
 * its own type (route_receive(qid, ID, ...)). Logs on fd 4 each request it sent (with the
 * length and digest of the reply the protocol defines for it) and each reply it received (role
 * 100 + ID, the tag read from the reply). Reports on fd 3: "call X", "sent k", "got k len",
 * "error <step> <errno>", "done". */
#include "lab3_driver.h"

#include <ctype.h>

#include "mqlab.h"

enum { GUARD = 64, GUARD_BYTE = 0xA5 };

static size_t request_text(char *out, size_t cap, long id, long k) {
    static const char *words[] = {"route", "by type", "mtype", "queue", "reply"};
    return (size_t)snprintf(out, cap, "P%ld:S%ld:%s %ld", id, k, words[(id + k) % 5], id * 100 + k);
}

int main(int argc, char **argv) {
    driver_setup();
    int create = 0, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (!strcmp(argv[i], "--eintr")) catch_sigusr1_without_restart();
        else if (!strcmp(argv[i], "--create")) create = 1;
        else { fprintf(stderr, "client: unknown option %s\n", argv[i]); return 2; }
    }
    if (i + 3 > argc) { fprintf(stderr, "client: KEY ID COUNT\n"); return 2; }
    key_t key = (key_t)strtol(argv[i], NULL, 0);
    long id = atol(argv[i + 1]), count = atol(argv[i + 2]);
    report_call("route_open");
    int qid = route_open(key, create);
    if (qid < 0) { dprintf(CONTROL_FD, "error open %d\n", errno); return 1; }
    char text[ROUTE_TEXT], reply[ROUTE_TEXT];
    for (long k = 0; k < count; k++) {
        size_t len = request_text(text, sizeof text, id, k);
        for (size_t c = 0; c < len; c++) reply[c] = (char)toupper((unsigned char)text[c]);
        struct ipcg_msg_record r = ipcg_msg_begin(IPCG_MSG_SEND, ROLE_CLIENT_BASE + (uint32_t)id);
        r.producer = (uint32_t)id;
        r.seq = (uint64_t)k;
        r.priority = id;
        report_call("route_request");
        int rc = route_request(qid, id, text);
        ipcg_msg_end(&r, reply, len);  /* what the reply to it must be */
        if (rc != 0) { dprintf(CONTROL_FD, "error request %d\n", errno); return 1; }
        log_record(&r);
        dprintf(CONTROL_FD, "sent %ld\n", k);
    }
    unsigned char *buf = malloc(ROUTE_TEXT + GUARD);
    for (long k = 0; k < count; k++) {
        memset(buf, GUARD_BYTE, ROUTE_TEXT + GUARD);
        struct ipcg_msg_record r = ipcg_msg_begin(IPCG_MSG_RECEIVE, ROLE_CLIENT_BASE + (uint32_t)id);
        report_call("route_receive");
        ssize_t n = route_receive(qid, id, buf, ROUTE_TEXT);
        if (n < 0) { dprintf(CONTROL_FD, "error receive %d\n", errno); return 1; }
        ipcg_msg_end(&r, buf, (size_t)n);
        r.priority = id;
        if (!parse_tag((const char *)buf, (size_t)n, &r.producer, &r.seq)) r.producer = IPCG_MSG_NO_PRODUCER;
        log_record(&r);
        dprintf(CONTROL_FD, "got %ld %zd\n", k, n);
    }
    dprintf(CONTROL_FD, "done\n");
    return 0;
}
