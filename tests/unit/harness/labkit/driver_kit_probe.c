/* The driver kit used the way a driver uses it, in a child process: how many pipe() calls succeed
 * after ipcg_leave_spare_fds(spare), and whether ipcg_gate() stops the process. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/labkit/driver_kit.h"

int driver_kit_pipes_after_leaving(int spare) {
    pid_t pid = fork();
    if (pid == 0) {
        ipcg_leave_spare_fds(spare);
        int made = 0, ends[2];
        while (made < 100 && pipe(ends) == 0) made++;
        _exit(errno == EMFILE ? made : 100 + made);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int driver_kit_gate_stops(void) {
    pid_t pid = fork();
    if (pid == 0) {
        ipcg_gate();
        _exit(7);
    }
    int status = 0;
    waitpid(pid, &status, WUNTRACED);
    const int stopped = WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP;
    kill(pid, SIGCONT);
    waitpid(pid, &status, 0);
    return stopped && WIFEXITED(status) && WEXITSTATUS(status) == 7;
}

/* After ipcg_leave_spare_address_space(spare): 1 if an mmap of `bytes` succeeds, 0 if it fails
 * with ENOMEM, -1 otherwise. */
#include <sys/mman.h>
int driver_kit_maps_after_leaving(unsigned long spare, unsigned long bytes) {
    pid_t pid = fork();
    if (pid == 0) {
        ipcg_leave_spare_address_space(spare);
        void *p = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        _exit(p != MAP_FAILED ? 1 : errno == ENOMEM ? 0 : 2);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) < 2 ? WEXITSTATUS(status) : -1;
}
