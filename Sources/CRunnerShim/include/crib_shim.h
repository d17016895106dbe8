#ifndef CRIB_SHIM_H
#define CRIB_SHIM_H

/* The runner's C side: everything between fork and exec. Filled in by the Runner. */
int crib_shim_version(void);

#endif
