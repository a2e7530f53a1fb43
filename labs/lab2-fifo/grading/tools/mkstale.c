/* Trusted tool, run as the student's uid: leaves what a crashed run would, a FIFO at each PATH
 * (mode 0666) that nobody has open.   mkstale PATH... */
#include <stdio.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
    umask(0);
    for (int i = 1; i < argc; i++)
        if (mkfifo(argv[i], 0666) != 0) { perror(argv[i]); return 1; }
    return 0;
}
