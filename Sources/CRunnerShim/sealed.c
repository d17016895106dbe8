#define _GNU_SOURCE
#include "crib_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* linux/memfd.h since 6.3 */
#endif

static int fail_closing(int first, int second) {
    int saved = errno;
    if (first >= 0) close(first);
    if (second >= 0) close(second);
    errno = saved;
    return -1;
}

int crib_sealed_copy(const char *path) {
    int source = open(path, O_RDONLY | O_CLOEXEC);
    if (source < 0) return -1;
    struct stat info;
    if (fstat(source, &info) < 0) return fail_closing(source, -1);

    /* From 6.3 on, vm.memfd_noexec may make a memfd without MFD_EXEC non-executable; older
       kernels reject the flag with EINVAL. */
    int copy = memfd_create("crib", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (copy < 0 && errno == EINVAL) copy = memfd_create("crib", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (copy < 0) return fail_closing(source, -1);

    off_t offset = 0;
    while (offset < info.st_size) {
        ssize_t count = sendfile(copy, source, &offset, (size_t)(info.st_size - offset));
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) return fail_closing(source, copy);
        if (count == 0) {
            /* The file shrank while it was copied. */
            errno = EIO;
            return fail_closing(source, copy);
        }
    }
    close(source);

    /* No more writes, no size change, and no way to lift these seals. */
    if (fcntl(copy, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
        return fail_closing(copy, -1);
    return copy;
}
