/* Trusted tool, run as the student's uid:
 *   mkstale PATH...           leaves what a crashed run would, a FIFO at each PATH (mode 0666)
 *                             that nobody has open
 *   mkstale --unlink PATH...  removes the FIFO at each PATH that the test itself made or caused to
 *                             remain, once the test's roles are gone. Only a FIFO: anything else
 *                             at PATH is left where it is (and the report lists it).
 *
 * Exit status 0, or 1 with the failed call on stderr. --unlink exits 0 when PATH is already gone,
 * and 3 when the FIFO belongs to another uid (/tmp is sticky: only the owner may unlink, EPERM or
 * EACCES): the grader then asks as the other role's uid. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { NOT_MINE = 3 };

static int make(int n, char **paths) {
    umask(0);
    for (int i = 0; i < n; i++)
        if (mkfifo(paths[i], 0666) != 0) { perror(paths[i]); return 1; }
    return 0;
}

static int remove_fifo(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        perror(path);
        return 1;
    }
    /* lstat then unlink is not atomic, but every role of the test has been killed by now. */
    if (!S_ISFIFO(st.st_mode)) return 0;
    if (unlink(path) == 0 || errno == ENOENT) return 0;
    if (errno == EPERM || errno == EACCES) return NOT_MINE;
    perror(path);
    return 1;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "--unlink")) {
        int status = 0;
        for (int i = 2; i < argc; i++) {
            int rc = remove_fifo(argv[i]);
            if (rc > status) status = rc;
        }
        return status;
    }
    return make(argc - 1, argv + 1);
}
