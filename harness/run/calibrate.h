/* `mmbench calibrate`: the cost of mmbench's own measurements on this machine. */
#ifndef MMB_CALIBRATE_H
#define MMB_CALIBRATE_H

int mmb_calibrate_main(int argc, char **argv);

#endif
