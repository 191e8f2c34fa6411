/* The bundled managers: one line each, in the order `mmbench list` shows them. A manager named
 * "a-b" is the object `mmb_manager_a_b` defined in managers/a_b.c. */
MMB_MANAGER(rc)
MMB_MANAGER(cpython)
MMB_MANAGER(cpython_inc)
MMB_MANAGER(bacon_rajan)
MMB_MANAGER(marksweep)
MMB_MANAGER(marksweep_inc)
MMB_MANAGER(rc_atomic)
MMB_MANAGER(rc_biased)
