/* Trusted driver for the parent role of the conversation, linked with the implementation
 * under test.
 *
 *   parent [OPTIONS] CHILD-ARGV...
 *
 * Reads every request line from stdin first, then converses with CHILD-ARGV through conv_*:
 * each reply goes to stdout as one line. Reports on fd 3: "call <function>" before each call
 * into the implementation, "reply <k> <length>" per exchange, then "status <child wait status>",
 * or "error <step> <errno>" (and stops there, unless --go-on).
 *
 * Options:
 *   --cap N            the reply buffer holds N bytes and is followed by a guard region; bytes
 *                      written past the buffer are reported as "guard <k> <count>"
 *   --eintr            SIGUSR1 interrupts system calls (no SA_RESTART); the grader sends it
 *   --sigpipe-default  leave SIGPIPE at its default; otherwise it is ignored, so that a child
 *                      that exits early shows as a failed exchange (EPIPE), not as this process
 *                      dying of SIGPIPE, which would read as a crash of whoever plays the parent
 *   --go-on            after a failed exchange, still call conv_finish
 *   --others TOOL      start two children of the caller's own first (driver_common.h)
 *   --marker TEXT      leave TEXT in the fully buffered stdout before conv_start
 *   --second TOOL      while the conversation is open, after the exchanges: a second conversation
 *                      with `TOOL --gate respond` (one request), then a pipeline of one stage
 *                      `TOOL --gate cat` on /dev/null; the grader looks at what they inherited
 *   --gate-after       stop (SIGSTOP) after conv_finish returns */
#include "driver_common.h"

#include "pipeline.h"

enum { DEFAULT_CAP = 4 << 20, GUARD = 64, GUARD_BYTE = 0xA5 };

static char **read_requests(size_t *count) {
    char **lines = NULL;
    size_t n = 0, cap = 0, len = 0;
    char *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &len, stdin)) != -1) {
        if (got > 0 && line[got - 1] == '\n') line[got - 1] = '\0';
        if (n == cap) lines = realloc(lines, (cap = cap ? 2 * cap : 16) * sizeof *lines);
        lines[n++] = strdup(line);
    }
    free(line);
    *count = n;
    return lines;
}

/* Bytes of the guard region after the reply buffer that no longer hold GUARD_BYTE. */
static int guard_damage(const unsigned char *guard) {
    int changed = 0;
    for (int i = 0; i < GUARD; i++) changed += guard[i] != GUARD_BYTE;
    return changed;
}

/* A second conversation and a pipeline, started while the first conversation is open; both are
 * started before anything waits for them, so what they inherited is seen even when a wait then
 * never returns. */
static void while_open(const char *tool) {
    char *second_argv[] = {(char *)tool, "--gate", "respond", NULL};
    struct conversation c2;
    char reply[256];
    ipcg_report_call("conv_start");
    if (conv_start(&c2, second_argv) != 0) { dprintf(CONTROL_FD, "error second-start %d\n", errno); return; }
    ipcg_report_call("conv_exchange");
    if (conv_exchange(&c2, "second", reply, sizeof reply) < 0) dprintf(CONTROL_FD, "error second-exchange %d\n", errno);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char *stage[] = {(char *)tool, "--gate", "cat", NULL};
    char *const *stages[] = {stage};
    ipcg_report_call("run_pipeline");
    dprintf(CONTROL_FD, "pipeline %d\n", run_pipeline(stages, 1, in, out));
    close(in);
    close(out);
    ipcg_report_call("conv_finish");
    dprintf(CONTROL_FD, "second %d\n", conv_finish(&c2));
}

int main(int argc, char **argv) {
    ipcg_control_setup();
    int first = 1, go_on = 0, gate_after = 0, sigpipe_default = 0;
    size_t cap = DEFAULT_CAP;
    const char *others = NULL, *marker = NULL, *second = NULL;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        const char *opt = argv[first];
        const int has_value = first + 1 < argc;
        if (strcmp(opt, "--go-on") == 0) go_on = 1;
        else if (strcmp(opt, "--gate-after") == 0) gate_after = 1;
        else if (strcmp(opt, "--sigpipe-default") == 0) sigpipe_default = 1;
        else if (strcmp(opt, "--eintr") == 0) ipcg_catch_sigusr1_without_restart();
        else if (strcmp(opt, "--cap") == 0 && has_value) cap = (size_t)strtoul(argv[++first], NULL, 10);
        else if (strcmp(opt, "--others") == 0 && has_value) others = argv[++first];
        else if (strcmp(opt, "--marker") == 0 && has_value) marker = argv[++first];
        else if (strcmp(opt, "--second") == 0 && has_value) second = argv[++first];
        else { fprintf(stderr, "parent: unknown option %s\n", opt); return 2; }
    }
    if (!sigpipe_default) signal(SIGPIPE, SIG_IGN);
    if (first >= argc) { fprintf(stderr, "parent: no child program\n"); return 2; }
    size_t count = 0;
    char **requests = read_requests(&count);
    unsigned char *buffer = malloc(cap + GUARD);
    if (marker) {
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
        printf("%s\n", marker);
    }
    if (others) start_other_children(others);

    struct conversation c;
    ipcg_report_call("conv_start");
    if (conv_start(&c, &argv[first]) != 0) { dprintf(CONTROL_FD, "error start %d\n", errno); return 1; }
    for (size_t k = 0; k < count; k++) {
        memset(buffer, GUARD_BYTE, cap + GUARD);
        ipcg_report_call("conv_exchange");
        ssize_t len = conv_exchange(&c, requests[k], (char *)buffer, cap);
        if (guard_damage(buffer + cap)) dprintf(CONTROL_FD, "guard %zu %d\n", k + 1, guard_damage(buffer + cap));
        if (len < 0) {
            dprintf(CONTROL_FD, "error exchange %d\n", errno);
            if (go_on) break;
            return 1;
        }
        dprintf(CONTROL_FD, "reply %zu %zd\n", k + 1, len);
        if ((size_t)len >= cap || buffer[len] != '\0') dprintf(CONTROL_FD, "unterminated %zu\n", k + 1);
        fwrite(buffer, 1, (size_t)len < cap ? (size_t)len : cap, stdout);
        fputc('\n', stdout);
        if (!marker) fflush(stdout);
    }
    if (second) while_open(second);
    ipcg_report_call("conv_finish");
    int status = conv_finish(&c);
    if (status == -1) dprintf(CONTROL_FD, "error finish %d\n", errno);
    else dprintf(CONTROL_FD, "status %d\n", status);
    if (gate_after) raise(SIGSTOP);
    return 0;
}
