#include "internal.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *info, int type, struct FTW *walk) {
    (void)info;
    (void)walk;
    int result = type == FTW_DP ? rmdir(path) : unlink(path);
    if (result < 0 && errno != ENOENT) crib_fail("remove", errno, "remove %s", path);
    return 0;
}

/* Deletes a container's directory from inside its user namespace, where the files that the
   container's other users created belong to ids the invoking user holds. */
void crib_remove_tree(const char *path) {
    /* FTW_PHYS: never follow a symlink the container left behind. FTW_MOUNT: stay on this file system. */
    if (nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
        crib_fail("remove", errno, "walk %s", path);
    _exit(0);
}
