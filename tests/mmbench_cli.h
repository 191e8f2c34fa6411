/* Helpers for the tests that run the mmbench binary (TEST_MMBENCH: the binary is mmb_test_arg). */
#ifndef MMB_TEST_MMBENCH_CLI_H
#define MMB_TEST_MMBENCH_CLI_H

#include <jansson.h>

/* Runs `MMBENCH ARGS`, stdout to out_path (or /dev/null), stderr to err_path (or /dev/null);
 * returns the exit status (-1 when it did not exit). */
int mmb_test_mmbench(const char *args, const char *out_path, const char *err_path);

/* Runs `mmbench run --format none --out TMP EXTRA`, checks it exited 0 and returns its results
 * document. */
json_t *mmb_test_run_json(const char *extra);

/* Makes PATH, a mkstemp(3) template (".../NAME-XXXXXX"), the name of a new empty file. */
void mmb_test_temp_file(char *path);

/* The JSON document in DIR/NAME (in NAME when dir is NULL); one that is missing or not JSON fails
 * the test, naming the file and the error. */
json_t *mmb_test_load_json(const char *dir, const char *name);

#endif
