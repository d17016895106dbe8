#include <archive.h>
#include <archive_entry.h>

#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

// glibc 2.36 has no openat2 wrapper, and Swift cannot call the variadic syscall(2).
static inline int crib_openat2(int dirfd, const char *path, unsigned long long flags, unsigned long long resolve) {
    struct open_how how = { .flags = flags, .mode = 0, .resolve = resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static inline dev_t crib_makedev(unsigned int major, unsigned int minor) {
    return makedev(major, minor);
}

static inline unsigned int crib_major(dev_t device) { return major(device); }
static inline unsigned int crib_minor(dev_t device) { return minor(device); }
