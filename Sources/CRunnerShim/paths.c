#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

int crib_open_no_symlinks(int root_fd, const char *path, int flags) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS,
    };
    long fd;
    do {
        fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return (int)fd;
}

int crib_open_in_root(int root_fd, const char *path, int flags) {
    /* RESOLVE_IN_ROOT makes "/" and ".." stop at root_fd, so an absolute or climbing symlink in
       the image resolves inside it as it would after pivot_root. Magic links could jump anywhere. */
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    long fd;
    do {
        fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return (int)fd;
}

/* Creates one missing component `name` below the already resolved `parent`. */
static int create_component(int parent, const char *name, int as_file) {
    if (as_file) {
        int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) return -1;
        close(fd);
        return 0;
    }
    return mkdirat(parent, name, 0755);
}

static int resolve_target(int root_fd, const char *path, int create_as_file, int depth);

/* Creates the destination of the dangling symlink `name` below `parent_path`, inside the
   root, as runc does for /etc/resolv.conf links to /run. */
static int create_link_destination(int root_fd, int parent, const char *parent_path, const char *name, int as_file,
                                   int depth) {
    char destination[PATH_MAX];
    ssize_t length = readlinkat(parent, name, destination, sizeof(destination) - 1);
    if (length < 0) return -1;
    destination[length] = '\0';

    char joined[PATH_MAX];
    if (destination[0] == '/') snprintf(joined, sizeof(joined), "%s", destination);
    else if (snprintf(joined, sizeof(joined), "%s/%s", parent_path, destination) >= (int)sizeof(joined)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = resolve_target(root_fd, joined, as_file, depth + 1);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

int crib_resolve_target(int root_fd, const char *path, int create_as_file) {
    return resolve_target(root_fd, path, create_as_file, 0);
}

static int resolve_target(int root_fd, const char *path, int create_as_file, int depth) {
    if (depth > 8) {
        errno = ELOOP;
        return -1;
    }
    int fd = crib_open_in_root(root_fd, path, O_PATH);
    if (fd >= 0 || errno != ENOENT) return fd;

    /* Walk the prefixes from the root, resolving each one inside the root again, so that a
       symlink met halfway can never anchor the rest of the walk outside it. */
    char prefix[PATH_MAX];
    size_t length = strlen(path);
    if (length >= sizeof(prefix)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    size_t start = 0;
    while (start < length) {
        while (start < length && path[start] == '/') start++;
        if (start >= length) break;
        size_t end = start;
        while (end < length && path[end] != '/') end++;
        int last = end >= length || strspn(path + end, "/") == length - end;

        memcpy(prefix, path, end);
        prefix[end] = '\0';
        int existing = crib_open_in_root(root_fd, prefix, O_PATH);
        if (existing >= 0) {
            close(existing);
            start = end;
            continue;
        }
        if (errno != ENOENT) return -1;

        char parent_path[PATH_MAX];
        memcpy(parent_path, path, start);
        parent_path[start] = '\0';
        int parent = crib_open_in_root(root_fd, start ? parent_path : "/", O_PATH | O_DIRECTORY);
        if (parent < 0) return -1;
        char name[NAME_MAX + 1];
        size_t name_length = end - start;
        if (name_length > NAME_MAX) {
            close(parent);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(name, path + start, name_length);
        name[name_length] = '\0';

        int as_file = last && create_as_file;
        int result = create_component(parent, name, as_file);
        /* EEXIST: a dangling symlink, whose destination is missing inside the root. */
        if (result < 0 && errno == EEXIST)
            result = create_link_destination(root_fd, parent, start ? parent_path : "/", name, as_file, depth);
        int saved = errno;
        close(parent);
        if (result < 0) {
            errno = saved;
            return -1;
        }
        start = end;
    }
    return crib_open_in_root(root_fd, path, O_PATH);
}

int crib_is_tmpfs(const char *path) {
    struct statfs info;
    if (statfs(path, &info) < 0) return -1;
    return info.f_type == TMPFS_MAGIC ? 1 : 0;
}
