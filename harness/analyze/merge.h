/* `mmbench merge`: combines the results of `mmbench run --shard K/N` for K = 1..N. */
#ifndef MMB_MERGE_H
#define MMB_MERGE_H

int mmb_merge_main(int argc, char **argv);

#endif
