/* The build's identity, recorded in every result and printed by --version: set by CMake on
 * build_info.c alone (so a new revision recompiles one file); the defaults are for builds outside
 * CMake. */
#ifndef MMB_BUILD_INFO_H
#define MMB_BUILD_INFO_H

typedef struct mmb_build_info {
    const char *version;      /* the project's version, "0.1.0" */
    const char *git_revision; /* git describe --always --dirty, or "unknown" */
    const char *build_type;   /* CMAKE_BUILD_TYPE */
    const char *sanitizers;   /* MMB_SANITIZE, "" for none */
} mmb_build_info;

const mmb_build_info *mmb_build_info_get(void);

#endif
