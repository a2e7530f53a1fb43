/* lab3's trusted helper: plays the parts of a test that no implementation may play.
 *
 *   mqtool stale NAME MAXMSG MSGSIZE COUNT   a queue left by a crashed run: created (mode 0666)
 *                                            with these attributes and COUNT old messages
 *                                            ("OLD <n>", priority 31)
 *   mqtool stop NAME COUNT                   COUNT stop jobs ("STOP", priority 0) for the workers
 *   mqtool attrs NAME                        prints "attrs <maxmsg> <msgsize> <curmsgs>"
 *   mqtool msgget KEY                        creates the System V queue of KEY (mode 0666)
 *   mqtool serve [--gate] [--eintr-wait] KEY COUNT
 *                                            a System V server: takes COUNT requests of mtype 1
 *                                            ("<c> <text>"); with --gate stops (SIGSTOP) once it
 *                                            has them all and then answers in the reverse order
 *                                            of arrival; otherwise answers each at once. Each
 *                                            reply (mtype c, the text in upper case) is logged
 *                                            on fd 4 as a send tagged with the request's tag.
 *   mqtool unlink NAME                       removes the test's own POSIX queue (mq_unlink)
 *   mqtool rmid KEY                          removes the test's own System V queue (IPC_RMID)
 *
 * Exit status 0, or 1 with the failed call on stderr. unlink and rmid exit 0 when the queue is
 * already gone, and 3 when it belongs to another uid (EACCES, EPERM): the grader then asks the
 * other role's uid. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msglog_record.h"

enum { TEXT = 256, LOG_FD = 4, ROLE_TOOL_SERVER = 3 };

struct msg { long mtype; char text[TEXT]; };

static int die(const char *what) { fprintf(stderr, "mqtool: %s: %s\n", what, strerror(errno)); return 1; }

static int stale(const char *name, long maxmsg, long msgsize, int count) {
    umask(0);
    struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
    mqd_t q = mq_open(name, O_WRONLY | O_CREAT, 0666, &a);
    if (q == (mqd_t)-1) return die("mq_open");
    for (int i = 0; i < count; i++) {
        char old[32];
        int n = snprintf(old, sizeof old, "OLD %d", i);
        if (mq_send(q, old, (size_t)n, 31) != 0) return die("mq_send");
    }
    return 0;
}

static int stop(const char *name, int count) {
    mqd_t q = mq_open(name, O_WRONLY);
    if (q == (mqd_t)-1) return die("mq_open");
    for (int i = 0; i < count; i++)
        while (mq_send(q, "STOP", 4, 0) != 0)
            if (errno != EINTR) return die("mq_send");
    return 0;
}

static int attrs(const char *name) {
    mqd_t q = mq_open(name, O_RDONLY);
    if (q == (mqd_t)-1) return die("mq_open");
    struct mq_attr a;
    if (mq_getattr(q, &a) != 0) return die("mq_getattr");
    printf("attrs %ld %ld %ld\n", a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs);
    return 0;
}

enum { NOT_MINE = 3 };

static int removed(int rc, const char *what) {
    if (rc == 0 || errno == ENOENT) return 0;
    if (errno == EACCES || errno == EPERM) return NOT_MINE;
    return die(what);
}

static int unlink_queue(const char *name) { return removed(mq_unlink(name), "mq_unlink"); }

static int rmid_queue(key_t key) {
    int qid = msgget(key, 0);
    if (qid < 0) return removed(-1, "msgget");
    int rc = msgctl(qid, IPC_RMID, NULL);
    if (rc != 0 && (errno == EINVAL || errno == EIDRM)) return 0;  /* removed meanwhile */
    return removed(rc, "msgctl IPC_RMID");
}

static int reply(int qid, const struct msg *req, ssize_t n) {
    long client = 0;
    ssize_t at = 0;
    while (at < n && isdigit((unsigned char)req->text[at])) client = client * 10 + (req->text[at++] - '0');
    if (at < n && req->text[at] == ' ') at++;
    if (client < 1) return 0;
    struct msg m = {.mtype = client};
    size_t len = (size_t)(n - at);
    for (size_t i = 0; i < len; i++) m.text[i] = (char)toupper((unsigned char)req->text[at + i]);
    struct ipcg_msg_record r = ipcg_msg_begin(IPCG_MSG_SEND, ROLE_TOOL_SERVER);
    unsigned prod;
    unsigned long long seq;
    if (sscanf(m.text, "P%u:S%llu:", &prod, &seq) == 2) { r.producer = prod; r.seq = seq; }
    r.priority = client;
    while (msgsnd(qid, &m, len, 0) != 0)
        if (errno != EINTR) return die("msgsnd");
    ipcg_msg_end(&r, m.text, len);
    if (ipcg_msg_write(LOG_FD, &r) != 0) return die("log");
    return 0;
}

static int serve(key_t key, int count, int gate) {
    int qid = msgget(key, 0);
    if (qid < 0) return die("msgget");
    struct msg *got = calloc((size_t)count, sizeof *got);
    ssize_t *len = calloc((size_t)count, sizeof *len);
    for (int k = 0; k < count; k++) {
        while ((len[k] = msgrcv(qid, &got[k], TEXT, 1, 0)) < 0)
            if (errno != EINTR) return die("msgrcv");
        if (!gate && reply(qid, &got[k], len[k]) != 0) return 1;
    }
    if (!gate) return 0;
    raise(SIGSTOP);  /* the grader looks at the clients, then continues us */
    for (int k = count - 1; k >= 0; k--)
        if (reply(qid, &got[k], len[k]) != 0) return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 6 && !strcmp(argv[1], "stale")) return stale(argv[2], atol(argv[3]), atol(argv[4]), atoi(argv[5]));
    if (argc >= 4 && !strcmp(argv[1], "stop")) return stop(argv[2], atoi(argv[3]));
    if (argc >= 3 && !strcmp(argv[1], "attrs")) return attrs(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "unlink")) return unlink_queue(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "rmid")) return rmid_queue((key_t)strtol(argv[2], NULL, 0));
    if (argc >= 3 && !strcmp(argv[1], "msgget"))
        return msgget((key_t)strtol(argv[2], NULL, 0), IPC_CREAT | 0666) < 0 ? die("msgget") : 0;
    if (argc >= 4 && !strcmp(argv[1], "serve")) {
        int gate = argc >= 5 && !strcmp(argv[2], "--gate");
        return serve((key_t)strtol(argv[2 + gate], NULL, 0), atoi(argv[3 + gate]), gate);
    }
    fprintf(stderr, "usage: mqtool stale|stop|attrs|msgget|serve|unlink|rmid ...\n");
    return 2;
}
