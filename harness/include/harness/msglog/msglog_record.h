/* One event of a trusted message log, as a reference role writes it: a fixed-size record, sent
 * with one write() on the log fd the grader gave it (a pipe: a write of at most PIPE_BUF bytes is
 * never interleaved with another role's). C, so that a lab's trusted tools in C can write it; the
 * grader reads it with read_message_log() (message_log.hpp).
 *
 *   struct ipcg_msg_record r = {0};
 *   r.magic = IPCG_MSG_MAGIC; r.op = IPCG_MSG_SEND; r.producer = id; r.seq = n; ...
 *   r.call_ns = now(); send(...); r.return_ns = now();
 *   write(log_fd, &r, sizeof r);
 *
 * Messages a reference role sends carry their tag (producer, seq) in the payload, so every value
 * is distinct and a receiver can say which sent message it got; the digest (ipcg_msg_digest) and
 * length tell whether it got that message whole. */
#ifndef IPCG_MSGLOG_RECORD_H
#define IPCG_MSGLOG_RECORD_H

#include <stddef.h>
#include <stdint.h>

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

#endif
