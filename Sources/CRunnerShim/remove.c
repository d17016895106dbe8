#include "internal.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
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

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_entry(const char *path, const struct stat *info, int type, struct FTW *walk) {
    (void)info;
    (void)type;
    (void)walk;
    /* lchown: a symlink itself changes owner, never what it points to. */
    if (lchown(path, chown_uid, chown_gid) < 0) crib_fail("chown", errno, "chown %s to %u:%u", path, chown_uid, chown_gid);
    return 0;
}

/* Gives a tree to an id of the container from inside its user namespace, where the invoking
   user has the subordinate ids that the container's other users map to. */
void crib_chown_tree(const char *path, uid_t uid, gid_t gid) {
    chown_uid = uid;
    chown_gid = gid;
    if (nftw(path, chown_entry, 32, FTW_PHYS | FTW_MOUNT) < 0) crib_fail("chown", errno, "walk %s", path);
    _exit(0);
}
