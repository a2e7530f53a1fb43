/* A trusted role's side of the message log, in C as the labs' tools are: n messages "sent" and
 * "received" through a local buffer, each call logged with the msglog_record.h helpers. Compiled
 * as C, so the header is known to be C. */
#include <stdio.h>

#include "harness/msglog/msglog_record.h"

int write_test_records(int log_fd, unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    char payload[32];
    const int len = snprintf(payload, sizeof payload, "p1 m%u", i);
    struct ipcg_msg_record sent = ipcg_msg_begin(IPCG_MSG_SEND, 1);
    sent.producer = 1;
    sent.seq = i;
    sent.priority = (int64_t)(i % 3);
    ipcg_msg_end(&sent, payload, (size_t)len);
    struct ipcg_msg_record got = ipcg_msg_begin(IPCG_MSG_RECEIVE, 2);
    got.producer = 1;
    got.seq = i;
    got.priority = sent.priority;
    ipcg_msg_end(&got, payload, (size_t)len);
    if (ipcg_msg_write(log_fd, &sent) != 0 || ipcg_msg_write(log_fd, &got) != 0) return -1;
  }
  return 0;
}

/* A payload of len bytes tagged (producer, seq), read back: 1 and the tag when it was readable. */
int tag_round_trip(size_t len, uint32_t producer, uint64_t seq, int upper, uint32_t* got_producer,
                   uint64_t* got_seq) {
  char payload[128];
  if (len > sizeof payload) return -1;
  ipcg_msg_payload(payload, len, producer, seq);
  if (upper)
    for (size_t i = 0; i < len; i++)
      if (payload[i] >= 'a' && payload[i] <= 'z') payload[i] = (char)(payload[i] - 'a' + 'A');
  return ipcg_msg_parse_tag(payload, len, got_producer, got_seq);
}
