#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name;
    int type;
} namespaces[] = {
    /* The user namespace comes first: it grants the capabilities the other setns calls need. */
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID},
    {"net", CLONE_NEWNET},   {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
};

void crib_join_namespaces(pid_t pid, int with_user) {
    enum { count = sizeof(namespaces) / sizeof(namespaces[0]) };
    int fds[count];

    /* Until it execs the command, this process has host descriptors and host memory open. As
       init does, it refuses ptrace and /proc access from the container it is about to enter.
       execve makes the command dumpable again. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) crib_fail("join", errno, "prctl PR_SET_DUMPABLE");

    /* Open every namespace before entering any: once in the container's mount namespace,
       /proc/PID would name a process of the wrong PID namespace. */
    for (int i = 0; i < count; i++) {
        fds[i] = -1;
        if (namespaces[i].type == CLONE_NEWUSER && !with_user) continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, namespaces[i].name);
        char own[64];
        snprintf(own, sizeof(own), "/proc/self/ns/%s", namespaces[i].name);
        struct stat theirs, ours;
        if (stat(path, &theirs) < 0) crib_fail("join", errno, "stat %s", path);
        /* A namespace the container shares with crib (the host network) is already joined. */
        if (stat(own, &ours) == 0 && ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev) continue;
        fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) crib_fail("join", errno, "open %s", path);
    }
    for (int i = 0; i < count; i++) {
        if (fds[i] < 0) continue;
        if (setns(fds[i], namespaces[i].type) < 0) crib_fail("join", errno, "setns %s namespace of PID %d", namespaces[i].name, pid);
        close(fds[i]);
    }
}
