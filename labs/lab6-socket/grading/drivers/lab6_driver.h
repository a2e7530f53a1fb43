/* What lab6's trusted drivers and its socktool share: addresses ("unix:PATH", "tcp:PORT"), the
 * seeded payloads and the service's transform. Header-only C. */
#ifndef IPCGRADE_LAB6_DRIVER_H
#define IPCGRADE_LAB6_DRIVER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* "unix:/tmp/x" or "tcp:40123" into family, path and port; 0 or -1. */
static int lab6_parse_address(const char *text, int *family, const char **path, unsigned short *port) {
    if (strncmp(text, "unix:", 5) == 0) {
        *family = AF_UNIX;
        *path = text + 5;
        *port = 0;
        return 0;
    }
    if (strncmp(text, "tcp:", 4) == 0) {
        *family = AF_INET;
        *path = NULL;
        *port = (unsigned short)atoi(text + 4);
        return 0;
    }
    return -1;
}

static uint64_t lab6_next(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Frame k of client `id` under `seed`: "C<id>:F<k>:" then seeded lowercase letters, digits and
 * punctuation (so the transform changes some bytes and keeps others). */
static void lab6_payload(char *out, size_t len, uint64_t seed, unsigned id, unsigned k) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 .,-";
    uint64_t x = seed ^ ((uint64_t)id << 40) ^ ((uint64_t)k << 16) ^ 0x9e3779b97f4a7c15ull;
    if (x == 0) x = 1;
    for (size_t i = 0; i < len; i++) out[i] = alphabet[lab6_next(&x) % (sizeof alphabet - 1)];
    char head[32];
    int n = snprintf(head, sizeof head, "c%u:f%u:", id, k);
    memcpy(out, head, (size_t)n < len ? (size_t)n : len);
}

/* The service: 'a'..'z' upper-cased, every other byte kept. */
static void lab6_transform(char *p, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (p[i] >= 'a' && p[i] <= 'z') p[i] = (char)(p[i] - 'a' + 'A');
}

/* Seeded frame length in [lo, hi]. */
static size_t lab6_length(uint64_t seed, unsigned id, unsigned k, size_t lo, size_t hi) {
    uint64_t x = (seed + 0x632be59bd9b4e019ull * (id + 1)) ^ ((uint64_t)k * 0x85ebca6bull) ^ 1;
    return lo + (size_t)(lab6_next(&x) % (hi - lo + 1));
}

/* Offset of the first byte where got differs from the expected reply (expected computed in
 * place into `want`); -1 when equal. */
static long lab6_first_difference(const char *want, const char *got, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (want[i] != got[i]) return (long)i;
    return -1;
}

#endif
