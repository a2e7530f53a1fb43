/* What lab2's trusted drivers share beyond the harness's driver kit: the request tags, the reply
 * every server gives (so a client can check it) and seeded requests. Header-only. */
#ifndef IPCGRADE_LAB2_DRIVER_H
#define IPCGRADE_LAB2_DRIVER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver_kit.h"
#include "msglog_record.h"

/* The tag a request text starts with: "C<producer>#<seq> ...". */
static inline int parse_tag(const char *text, size_t len, uint32_t *producer, uint64_t *seq) {
    char head[48];
    size_t n = len < sizeof head - 1 ? len : sizeof head - 1;
    memcpy(head, text, n);
    head[n] = '\0';
    unsigned p;
    unsigned long long s;
    int used = 0;
    if (sscanf(head, "C%u#%llu%n", &p, &s, &used) != 2 || (text[used] != ' ' && (size_t)used != len)) return -1;
    *producer = p;
    *seq = s;
    return 0;
}

/* The reply to a request: "<tag> <length> <digest>" (the digest is ipcg_msg_digest of the text,
 * in hex), so the client can tell whether the server got its request whole. A text that contains
 * " BIG" gets a reply of BIG_REPLY bytes instead: larger than a pipe's buffer. */
enum { BIG_REPLY = 200000 };
static inline size_t reply_for(const char *request, size_t len, char *reply, size_t cap) {
    if (len >= 4 && memmem(request, len, " BIG", 4) && cap >= BIG_REPLY) {
        memset(reply, 'x', BIG_REPLY);
        return BIG_REPLY;
    }
    size_t tag = 0;
    while (tag < len && tag < 40 && request[tag] != ' ') tag++;
    int n = snprintf(reply, cap, "%.*s %zu %016llx", (int)tag, request, len,
                     (unsigned long long)ipcg_msg_digest(request, len));
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap;
}

/* splitmix64: requests drawn from a seed are the same on every machine. */
static inline uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Request k of producer id: its tag, then filler up to a seeded length in [bytes/2, bytes]. */
static inline size_t make_request(char *out, size_t cap, unsigned id, unsigned k, size_t bytes, uint64_t *random) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:-";
    int n = snprintf(out, cap, "C%u#%u ", id, k);
    size_t want = bytes / 2 + (bytes > 1 ? (size_t)(next_random(random) % (bytes / 2 + 1)) : 0);
    if (want < (size_t)n + 1) want = (size_t)n + 1;
    if (want > cap - 1) want = cap - 1;
    for (size_t i = (size_t)n; i < want; i++) out[i] = alphabet[next_random(random) % (sizeof alphabet - 1)];
    out[want] = '\0';
    return want;
}

#endif
