/* mmbench's entry point; the command table is commands.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

int main(int argc, char **argv) {
    int status = mmb_cli_main(argc, argv);
    /* Results that could not be written are a failed run, not a silent success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "mmbench: error: standard output: cannot write: %s\n", strerror(errno));
        return status ? status : 1;
    }
    return status;
}
