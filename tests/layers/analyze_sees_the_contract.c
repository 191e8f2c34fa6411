/* Must not compile: analyze/ never touches a manager, not even through the contract. */
#include "mmbench/manager.h"
