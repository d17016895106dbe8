#include "crib_shim.h"

int crib_shim_version(void) { return 1; }
