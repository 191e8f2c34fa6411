/* The external managers: adapters to real runtimes and collectors, one file each in this folder,
 * each built only when its Debian packages are present (CMake defines MMB_HAVE_ID for those it
 * built; ci/deps installs the packages). One line each, in the order `mmbench list` shows them:
 * MMB_EXTERNAL(ID, "public-name", "Debian packages"). A manager ID is the object
 * `mmb_manager_ID`, with `const char *mmb_manager_ID_version(void)`, defined in ID.c. */
MMB_EXTERNAL(python3_11, "python3.11", "libpython3.11-dev")
MMB_EXTERNAL(boehm, "boehm", "libgc-dev")
MMB_EXTERNAL(boehm_incremental, "boehm-incremental", "libgc-dev")
MMB_EXTERNAL(php8_2, "php8.2", "libphp8.2-embed php8.2-dev")
