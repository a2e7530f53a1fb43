/* What lab1's trusted tools (stage, client) share: whole writes, the seeded random numbers
 * that decide where messages are cut, and waiting until the reader has drained a pipe.
 * Header-only: each tool is one C file. */
#ifndef IPCGRADE_LAB1_TOOL_COMMON_H
#define IPCGRADE_LAB1_TOOL_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* splitmix64: the same seed gives the same cuts on every machine and libc. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Up to three seeded cut points strictly inside (0, len), sorted and distinct. */
static size_t seeded_cuts(uint64_t *random, size_t len, size_t cuts[3]) {
    size_t n = 0;
    if (len < 2) return 0;
    size_t want = 1 + (size_t)(next_random(random) % 3);
    for (size_t i = 0; i < want; i++) {
        size_t at = 1 + (size_t)(next_random(random) % (len - 1)), j = n;
        int seen = 0;
        for (size_t m = 0; m < n; m++) seen |= cuts[m] == at;
        if (seen) continue;
        while (j > 0 && cuts[j - 1] > at) { cuts[j] = cuts[j - 1]; j--; }
        cuts[j] = at;
        n++;
    }
    return n;
}

static int bytes_queued(int fd) {
    int n = 0;
    return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

/* Waits until the reader has taken every byte out of the pipe whose write end is fd, or is
 * gone. Polls: a writer has no event for "the pipe is empty". */
static void wait_drained(int fd) {
    const struct timespec tick = {0, 200 * 1000};
    for (;;) {
        struct pollfd p = {.fd = fd, .events = 0};
        if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) return;  /* no reader left */
        if (bytes_queued(fd) == 0) return;
        nanosleep(&tick, NULL);
    }
}

#endif
