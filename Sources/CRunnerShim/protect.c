#include "internal.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>

unsigned long crib_locked_flags(const char *path);

static void mask(const char *path) {
    struct stat info;
    if (stat(path, &info) < 0) {
        if (errno == ENOENT) return;
        crib_fail("mask", errno, "stat %s", path);
    }
    if (S_ISDIR(info.st_mode)) {
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
            crib_fail_mount("mask", errno, "tmpfs", path, "tmpfs", MS_RDONLY, NULL);
    } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
        crib_fail_mount("mask", errno, "/dev/null", path, NULL, MS_BIND, NULL);
    }
}

static void rebind(const char *path, int readonly) {
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (errno == ENOENT) return;
        crib_fail_mount("protect", errno, path, path, NULL, MS_BIND | MS_REC, NULL);
    }
    unsigned long flags = MS_BIND | MS_REMOUNT | (crib_locked_flags(path) & ~MS_RDONLY);
    if (readonly) flags |= MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount(NULL, path, NULL, flags, NULL) < 0) crib_fail_mount("protect", errno, NULL, path, NULL, flags, NULL);
}

/* Runs after pivot_root, in list order: the caller puts a writable ns_last_pid after the
   read-only /proc/sys so that it sits on top of it. */
void crib_finish_mounts(const struct crib_config *config) {
    for (size_t i = 0; i < config->mount_count; i++) {
        const struct crib_mount *m = &config->mounts[i];
        switch (m->kind) {
        case CRIB_MOUNT_MASK: mask(m->target); break;
        case CRIB_MOUNT_READONLY: rebind(m->target, 1); break;
        case CRIB_MOUNT_WRITABLE: rebind(m->target, 0); break;
        default: break;
        }
    }
}
