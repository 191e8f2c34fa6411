/* Result files (--out, --emit, --hgrm) written so that they cannot be turned against the user:
 * checked before any work, written to a fresh mkstemp temporary in the target's own directory,
 * renamed into place. Design: harness/README.md, "Output files". */
#ifndef MMB_OUTFILE_H
#define MMB_OUTFILE_H

#include <stdio.h>

/* Writes a file's whole content to out; returns 0, or nonzero when it could not (errno then
 * says why, where it can). */
typedef int (*mmb_outfile_fn)(FILE *out, void *ctx);

/* Checks, before any work, that mmb_outfile_write can write PATH. Refuses an existing PATH
 * that is not a regular file (a directory, FIFO, device, socket, or a symbolic link, whatever
 * it points to), a missing parent directory or one that is not a directory, and a directory in
 * which no file can be created (a fresh temporary is created there and removed: this holds
 * for root too, and for read-only file systems). Returns EXIT_OK, or EXIT_USAGE after one
 * line: "mmbench: error: CMD: FLAG PATH: WHAT (hint: HOW)". */
int mmb_outfile_check(const char *cmd, const char *flag, const char *path);

/* Checks that files can be created in the existing directory DIR (as above); EXIT_OK or
 * EXIT_USAGE after one line naming CMD, FLAG and DIR. */
int mmb_outfile_check_dir(const char *cmd, const char *flag, const char *dir);

/* Writes PATH atomically: fill(out, ctx) writes a temporary made by mkstemp (O_EXCL: never an
 * existing name, never through a symbolic link) in PATH's directory, with the permissions
 * fopen would give (an existing PATH's own, else 0666 & ~umask); it is then renamed over PATH.
 * PATH itself is checked again just before the rename, as mmb_outfile_check does. Returns
 * EXIT_OK; EXIT_USAGE when PATH fails that check; EXIT_FAILED when writing failed. On failure,
 * after one error line, the temporary is removed and PATH is as it was. */
int mmb_outfile_write(const char *cmd, const char *flag, const char *path, mmb_outfile_fn fill,
                      void *ctx);

/* mmb_outfile_write of a JSON document (indented, keys in the document's order). */
#include <jansson.h>
int mmb_outfile_write_json(json_t *doc, const char *cmd, const char *flag, const char *path);

#endif
