/* crib's container shim as a program of its own. crib spawns it in place of a second start of
   itself. The constructor in CRunnerShim takes over before main, and this binary loads libc
   and little else, where crib loads Foundation and libcurl's dependencies first. */
#include <stdio.h>

int main(void) {
    /* Reached only without the shim's descriptors, so someone other than crib started it. */
    fputs("crib-shim: started by crib only, to set up a container\n", stderr);
    return 125;
}
