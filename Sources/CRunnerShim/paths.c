#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int crib_open_in_root(int root_fd, const char *path, int flags) {
    /* RESOLVE_IN_ROOT makes "/" and ".." stop at root_fd, so an absolute or climbing symlink in
       the image resolves inside it as it would after pivot_root; magic links could jump anywhere. */
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

int crib_resolve_target(int root_fd, const char *path, int create_as_file) {
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
        /* EEXIST here means a dangling symlink: its destination is missing inside the root.
           Refuse instead of guessing, the open below reports ENOENT. */
        if (create_component(parent, name, last && create_as_file) < 0 && errno != EEXIST) {
            int saved = errno;
            close(parent);
            errno = saved;
            return -1;
        }
        close(parent);
        start = end;
    }
    return crib_open_in_root(root_fd, path, O_PATH);
}
