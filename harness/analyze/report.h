/* `mmbench report`: results tables (Markdown, CSV) and a self-contained HTML page from one or
 * more `mmbench run --out` documents. Design: harness/README.md, "Reports". report.c reads and
 * summarises into the model (internal/report_model.h); one file per output format renders it. */
#ifndef MMB_REPORT_H
#define MMB_REPORT_H

/* Returns the exit status: 0 ok, 1 the output could not be written, 2 bad usage or bad input.
 * argv[0] is "report". */
int mmb_report_main(int argc, char **argv);

#endif
