/* One event of a trusted message log, as a reference role writes it: a fixed-size record, sent
 * with one write() on the log fd the grader gave it (a pipe: a write of at most PIPE_BUF bytes is
 * never interleaved with another role's). C, so that a lab's trusted tools in C can write it; the
 * grader reads it with read_message_log() (message_log.hpp).
 *
 *   struct ipcg_msg_record r = ipcg_msg_begin(IPCG_MSG_SEND, role);   // magic, pid, call_ns
 *   r.producer = id; r.seq = n; r.priority = prio;
 *   mq_send(q, payload, len, prio);
 *   ipcg_msg_end(&r, payload, len);                                  // digest, length, return_ns
 *   if (ipcg_msg_write(log_fd, &r) != 0) ... the log is gone: stop, the grader will say so
 *
 * Messages a reference role sends carry their tag (producer, seq) in the payload (ipcg_msg_payload
 * writes it, ipcg_msg_parse_tag reads it back), so every value is distinct and a receiver can say
 * which sent message it got; the digest (ipcg_msg_digest) and length tell whether it got that
 * message whole. */
#ifndef IPCG_MSGLOG_RECORD_H
#define IPCG_MSGLOG_RECORD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IPCG_MSG_MAGIC 0x4d475049u /* "IPGM" */
#define IPCG_MSG_SEND 1u
#define IPCG_MSG_RECEIVE 2u
/* A receive whose payload carried no tag a reference role sent (garbage, or a cut message). */
#define IPCG_MSG_NO_PRODUCER 0xffffffffu

struct ipcg_msg_record {
  uint32_t magic;     /* IPCG_MSG_MAGIC */
  uint32_t op;        /* IPCG_MSG_SEND or IPCG_MSG_RECEIVE */
  uint32_t role;      /* which reference role wrote it (the lab's numbering) */
  int32_t pid;        /* its pid */
  uint32_t producer;  /* the tag: which producer sent the message (IPCG_MSG_NO_PRODUCER: none) */
  uint32_t length;    /* payload bytes sent, or received */
  uint64_t seq;       /* the tag: the producer's sequence number, from 0 */
  uint64_t digest;    /* ipcg_msg_digest of the payload bytes sent, or received */
  int64_t priority;   /* POSIX priority or System V mtype; 0 where the mechanism has none */
  uint64_t call_ns;   /* CLOCK_MONOTONIC just before the call */
  uint64_t return_ns; /* CLOCK_MONOTONIC just after it returned */
};

/* FNV-1a, 64 bits: tells a whole message from a cut or merged one, not an adversary's forgery
 * (only trusted roles write the log). */
static inline uint64_t ipcg_msg_digest(const void* bytes, size_t n) {
  const unsigned char* p = (const unsigned char*)bytes;
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

/* The tag every payload a reference role sends starts with, so that a receiver can say which sent
 * message it got: "P<producer>:S<seq>:", then seeded filler (letters) up to len bytes. A payload
 * shorter than its tag is cut (its tag cannot be read back). Returns len. */
static inline size_t ipcg_msg_payload(char* out, size_t len, uint32_t producer, uint64_t seq) {
  char head[48];
  const int n = snprintf(head, sizeof head, "P%u:S%llu:", (unsigned)producer, (unsigned long long)seq);
  uint64_t x = ((uint64_t)producer << 32) ^ seq ^ 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = (char)('a' + x % 26);
  }
  memcpy(out, head, (size_t)n < len ? (size_t)n : len);
  return len;
}

/* The tag at the start of a received payload (also upper-cased: "P3:S7:" or "p3:s7:" after a
 * transform); 1 and the tag, or 0 when there is none (garbage, or a cut message). */
static inline int ipcg_msg_parse_tag(const void* payload, size_t len, uint32_t* producer, uint64_t* seq) {
  char head[48];
  const size_t n = len < sizeof head - 1 ? len : sizeof head - 1;
  memcpy(head, payload, n);
  head[n] = '\0';
  unsigned prod;
  unsigned long long s;
  int used = 0;
  if (sscanf(head, "%*1[Pp]%u:%*1[Ss]%llu:%n", &prod, &s, &used) != 2 || used == 0) return 0;
  *producer = prod;
  *seq = s;
  return 1;
}

static inline uint64_t ipcg_msg_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A record of one call, its call time taken now (just before the call). */
static inline struct ipcg_msg_record ipcg_msg_begin(uint32_t op, uint32_t role) {
  struct ipcg_msg_record r;
  memset(&r, 0, sizeof r);
  r.magic = IPCG_MSG_MAGIC;
  r.op = op;
  r.role = role;
  r.pid = (int32_t)getpid();
  r.producer = IPCG_MSG_NO_PRODUCER;
  r.call_ns = ipcg_msg_now();
  return r;
}

/* After the call returned: its return time, and the length and digest of the payload sent or
 * received. */
static inline void ipcg_msg_end(struct ipcg_msg_record* r, const void* payload, size_t length) {
  r->return_ns = ipcg_msg_now();
  r->length = (uint32_t)length;
  r->digest = ipcg_msg_digest(payload, length);
}

/* One write() of the whole record (atomic on a pipe: 64 bytes < PIPE_BUF); 0, or -1 with errno. */
static inline int ipcg_msg_write(int log_fd, const struct ipcg_msg_record* r) {
  for (;;) {
    const ssize_t n = write(log_fd, r, sizeof *r);
    if (n == (ssize_t)sizeof *r) return 0;
    if (n < 0 && errno == EINTR) continue;
    if (n >= 0) errno = EIO; /* a pipe never takes part of a record this small */
    return -1;
  }
}

#endif
