#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void fd_path(int fd, char *buffer, size_t size) { snprintf(buffer, size, "/proc/self/fd/%d", fd); }

/* The flags a remount must repeat: in a user namespace the kernel locks nosuid, nodev and
   noexec of mounts inherited from a more privileged one, and a remount that drops them fails. */
unsigned long crib_locked_flags(const char *path) {
    struct statvfs info;
    if (statvfs(path, &info) < 0) return 0;
    unsigned long flags = 0;
    if (info.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (info.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (info.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (info.f_flag & ST_RDONLY) flags |= MS_RDONLY;
    return flags;
}

/* Splits target into a resolved parent directory and the last component. */
static int resolve_parent(int root_fd, const char *target, char *name, size_t size) {
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", target);
    size_t length = strlen(parent);
    while (length > 1 && parent[length - 1] == '/') parent[--length] = '\0';
    char *slash = strrchr(parent, '/');
    if (!slash) {
        snprintf(name, size, "%s", parent);
        return crib_open_in_root(root_fd, "/", O_PATH | O_DIRECTORY);
    }
    snprintf(name, size, "%s", slash + 1);
    if (slash == parent) slash[1] = '\0';
    else slash[0] = '\0';
    return crib_resolve_target(root_fd, parent, 0);
}

static int resolve_or_fail(int root_fd, const char *target, int as_file) {
    int fd = crib_resolve_target(root_fd, target, as_file);
    if (fd < 0) crib_fail("mount", errno, "resolve mount target %s inside the rootfs", target);
    return fd;
}

/* Whether target is /proc, /sys or /dev or lies below one of them. */
static int is_protected_tree(const char *target) {
    static const char *const trees[] = {"/proc", "/sys", "/dev"};
    for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
        size_t length = strlen(trees[i]);
        if (strncmp(target, trees[i], length) == 0 && (target[length] == '\0' || target[length] == '/')) return 1;
    }
    return 0;
}

static void mount_filesystem(int root_fd, const struct crib_mount *m) {
    int target = resolve_or_fail(root_fd, m->target, 0);
    if (is_protected_tree(m->target)) {
        /* /proc, /sys and /dev are masked and protected by path after pivot_root, so an image
           that makes one of them a symlink could move the real file system out from under
           those steps. Any other target, such as a RUN --mount tmpfs, resolves inside the
           rootfs as a bind target does. */
        close(target);
        target = crib_open_no_symlinks(root_fd, m->target, O_PATH);
        if (target < 0) crib_fail("mount", errno, "open mount target %s without following symlinks", m->target);
    }
    char path[64];
    fd_path(target, path, sizeof(path));
    if (mount(m->source, path, m->fstype, m->flags, m->data) < 0)
        crib_fail_mount("mount", errno, m->source, m->target, m->fstype, m->flags, m->data);
    close(target);
}

static void bind_host_path(int root_fd, const char *source, const char *target_path, uint64_t extra) {
    struct stat info;
    if (stat(source, &info) < 0) crib_fail("mount", errno, "stat bind source %s", source);
    int target = resolve_or_fail(root_fd, target_path, !S_ISDIR(info.st_mode));
    char path[64];
    fd_path(target, path, sizeof(path));
    if (mount(source, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        crib_fail_mount("mount", errno, source, target_path, NULL, MS_BIND | MS_REC, NULL);
    close(target);

    if ((extra & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) == 0) return;
    /* Reopen: the descriptor taken before the mount names the directory underneath it. */
    target = resolve_or_fail(root_fd, target_path, 0);
    fd_path(target, path, sizeof(path));
    unsigned long flags = MS_BIND | MS_REMOUNT | (unsigned long)extra | (crib_locked_flags(path) & ~MS_RDONLY);
    if (mount(NULL, path, NULL, flags, NULL) < 0) crib_fail_mount("mount", errno, source, target_path, NULL, flags, NULL);
    close(target);
}

static void make_device(int root_fd, const struct crib_mount *m) {
    struct stat info;
    if (stat(m->source, &info) < 0) crib_fail("mount", errno, "stat device %s", m->source);
    char name[NAME_MAX + 1];
    int parent = resolve_parent(root_fd, m->target, name, sizeof(name));
    if (parent < 0) crib_fail("mount", errno, "resolve parent of %s inside the rootfs", m->target);
    if (mknodat(parent, name, info.st_mode & (S_IFMT | 07777), info.st_rdev) == 0) {
        /* mknod applies the umask; the node gets the host's mode, as 0666 for /dev/null. */
        if (fchmodat(parent, name, info.st_mode & 07777, 0) < 0) crib_fail("mount", errno, "chmod %s", m->target);
        close(parent);
        return;
    }
    /* Without CAP_MKNOD in the initial user namespace (rootless) the node is bound from the host. */
    if (errno != EPERM) crib_fail("mount", errno, "mknod %s", m->target);
    close(parent);
    bind_host_path(root_fd, m->source, m->target, 0);
}

static void make_symlink(int root_fd, const struct crib_mount *m) {
    char name[NAME_MAX + 1];
    int parent = resolve_parent(root_fd, m->target, name, sizeof(name));
    if (parent < 0) crib_fail("mount", errno, "resolve parent of %s inside the rootfs", m->target);
    if (symlinkat(m->source, parent, name) < 0 && errno != EEXIST)
        crib_fail("mount", errno, "symlink %s -> %s", m->target, m->source);
    close(parent);
}

static void mount_rootfs(const struct crib_config *config) {
    if (config->has_rootfs_fs) {
        const struct crib_mount *m = &config->rootfs_fs;
        if (mount(m->source, config->rootfs, m->fstype, m->flags, m->data) < 0)
            crib_fail_mount("rootfs", errno, m->source, config->rootfs, m->fstype, m->flags, m->data);
        return;
    }
    /* pivot_root needs a mount point; a prepared directory becomes one by binding it onto itself. */
    if (mount(config->rootfs, config->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        crib_fail_mount("rootfs", errno, config->rootfs, config->rootfs, NULL, MS_BIND | MS_REC, NULL);
}

static void pivot(int root_fd, const char *rootfs) {
    /* pivot_root(".", ".") stacks the old root on top of the new one. Detaching "." then
       removes the old root, so the image needs no directory to hold it. */
    if (fchdir(root_fd) < 0) crib_fail("pivot_root", errno, "chdir %s", rootfs);
    if (syscall(SYS_pivot_root, ".", ".") < 0) crib_fail("pivot_root", errno, "pivot_root %s", rootfs);
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        crib_fail_mount("pivot_root", errno, NULL, "old root", NULL, MS_SLAVE | MS_REC, NULL);
    if (umount2(".", MNT_DETACH) < 0) crib_fail("pivot_root", errno, "detach the old root");
    if (chdir("/") < 0) crib_fail("pivot_root", errno, "chdir /");
}

void crib_setup_rootfs(const struct crib_config *config) {
    if (!config->rootfs) crib_fail("rootfs", EINVAL, "no rootfs in the configuration");
    mount_rootfs(config);
    int root_fd = open(config->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) crib_fail("rootfs", errno, "open %s", config->rootfs);

    for (size_t i = 0; i < config->mount_count; i++) {
        const struct crib_mount *m = &config->mounts[i];
        switch (m->kind) {
        case CRIB_MOUNT_FS: mount_filesystem(root_fd, m); break;
        case CRIB_MOUNT_BIND: bind_host_path(root_fd, m->source, m->target, m->flags); break;
        case CRIB_MOUNT_DEVICE: make_device(root_fd, m); break;
        case CRIB_MOUNT_SYMLINK: make_symlink(root_fd, m); break;
        default: break;
        }
    }

    /* The working directory exists before the user is switched, as Docker creates it. */
    int cwd = crib_resolve_target(root_fd, config->cwd, 0);
    if (cwd < 0) crib_fail("rootfs", errno, "create working directory %s", config->cwd);
    close(cwd);

    pivot(root_fd, config->rootfs);
    close(root_fd);
}
