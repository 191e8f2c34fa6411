/* The build's identity (build_info.h). */
#include "build_info.h"

#ifndef MMB_VERSION
#define MMB_VERSION "0.0.0"
#endif
#ifndef MMB_GIT_REVISION
#define MMB_GIT_REVISION "unknown"
#endif
#ifndef MMB_BUILD_TYPE
#define MMB_BUILD_TYPE "unknown"
#endif
#ifndef MMB_SANITIZERS
#define MMB_SANITIZERS ""
#endif

const mmb_build_info *mmb_build_info_get(void) {
    static const mmb_build_info info = {MMB_VERSION, MMB_GIT_REVISION, MMB_BUILD_TYPE,
                                        MMB_SANITIZERS};
    return &info;
}
