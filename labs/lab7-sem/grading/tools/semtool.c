/* lab7's trusted helper: plays the parts of a test that no implementation may play.
 *
 *   semtool stale NAME VALUE     a semaphore left by a crashed run: created (mode 0666) with VALUE
 *   semtool unlink NAME          removes the test's own POSIX semaphore (sem_unlink)
 *   semtool unlink-prefix NAME   removes every POSIX semaphore whose name starts with NAME
 *                                (a barrier's, whatever suffixes its code chose)
 *   semtool rmid KEY             removes the test's own System V set (IPC_RMID)
 *   semtool values KEY           prints "values V0 V1 ..." of the System V set (GETALL): what the
 *                                grader reads of a table after a philosopher died
 *
 * Exit status 0, or 1 with the failed call on stderr. unlink and rmid exit 0 when the object is
 * already gone, and 3 when it belongs to another uid (EACCES, EPERM): the grader then asks the
 * other role's uid. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>

enum { NOT_MINE = 3 };

static int die(const char *what) { fprintf(stderr, "semtool: %s: %s\n", what, strerror(errno)); return 1; }

static int removed(int rc, const char *what) {
    if (rc == 0 || errno == ENOENT || errno == EINVAL || errno == EIDRM) return 0;
    if (errno == EACCES || errno == EPERM) return NOT_MINE;
    return die(what);
}

static int stale(const char *name, unsigned value) {
    umask(0);
    sem_t *s = sem_open(name, O_CREAT, 0666, value);
    if (s == SEM_FAILED) return die("sem_open");
    return sem_close(s) == 0 ? 0 : die("sem_close");
}

/* Named semaphores are the files /dev/shm/sem.NAME (NAME without its leading '/'). */
static int unlink_prefix(const char *name) {
    DIR *d = opendir("/dev/shm");
    if (!d) return errno == ENOENT ? 0 : die("opendir /dev/shm");
    char want[300];
    snprintf(want, sizeof want, "sem.%s", name[0] == '/' ? name + 1 : name);
    int rc = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, want, strlen(want)) != 0) continue;
        char sem_name[300];
        snprintf(sem_name, sizeof sem_name, "/%s", e->d_name + 4);
        int r = removed(sem_unlink(sem_name), "sem_unlink");
        if (r > rc) rc = r;
    }
    closedir(d);
    return rc;
}

static int values(key_t key) {
    int id = semget(key, 0, 0);
    struct semid_ds ds;
    union { int val; struct semid_ds *buf; unsigned short *array; } arg = {.buf = &ds};
    if (id < 0 || semctl(id, 0, IPC_STAT, arg) != 0)
        return errno == EACCES || errno == EPERM ? NOT_MINE : die(id < 0 ? "semget" : "semctl IPC_STAT");
    unsigned short v[256];
    if (ds.sem_nsems > 256) { errno = E2BIG; return die("semctl GETALL"); }
    arg.array = v;
    if (semctl(id, 0, GETALL, arg) != 0) return die("semctl GETALL");
    printf("values");
    for (unsigned long i = 0; i < ds.sem_nsems; i++) printf(" %u", v[i]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "semtool: MODE ARG...\n"); return 2; }
    const char *mode = argv[1];
    if (!strcmp(mode, "stale") && argc == 4) return stale(argv[2], (unsigned)atoi(argv[3]));
    if (!strcmp(mode, "unlink")) return removed(sem_unlink(argv[2]), "sem_unlink");
    if (!strcmp(mode, "unlink-prefix")) return unlink_prefix(argv[2]);
    if (!strcmp(mode, "rmid")) {
        int id = semget((key_t)strtol(argv[2], NULL, 0), 0, 0);
        if (id < 0) return errno == ENOENT ? 0 : removed(-1, "semget");
        return removed(semctl(id, 0, IPC_RMID), "semctl IPC_RMID");
    }
    if (!strcmp(mode, "values")) return values((key_t)strtol(argv[2], NULL, 0));
    fprintf(stderr, "semtool: unknown mode %s\n", mode);
    return 2;
}
