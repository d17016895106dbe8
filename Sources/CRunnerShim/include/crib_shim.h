#ifndef CRIB_SHIM_H
#define CRIB_SHIM_H

/*
 * The runner's C side: everything between fork and exec.
 *
 * crib starts itself (/proc/self/exe) with CRIB_SHIM_FDS_ENV set to "CONFIG:SYNC:ERROR".
 * A constructor in setup.c reads the variable before the Swift runtime starts, reads the
 * container's configuration from CONFIG and never returns to Swift.
 *
 * Processes, outermost first:
 *   relay  the spawned crib. It enters the user namespace (the parent writes the maps),
 *          then the other namespaces, and stays outside the new PID namespace. It hands
 *          the parent sockets created in the container's network namespace, forwards
 *          signals, and exits with the container's status.
 *   init   PID 1 of the container: builds the rootfs, pivots into it, raises ns_last_pid,
 *          reaps children and forwards signals to the application.
 *   app    sets user, groups, capabilities, no_new_privs, seccomp, closes descriptors, execs.
 *
 * With CRIB_CONFIG_JOIN the relay instead enters the namespaces of a running container's init
 * and forks the app directly into them (an exec into the container, as CRIU's dump needs).
 */

#include <stddef.h>
#include <stdint.h>

#define CRIB_SHIM_FDS_ENV "_CRIB_SHIM_FDS"

/* Configuration records: u32 tag, u32 length, then length bytes. CRIB_CONFIG_END ends it. */
enum crib_config_tag {
    CRIB_CONFIG_END = 0,
    CRIB_CONFIG_NAMESPACES = 1,   /* u32: CLONE_NEW* flags besides CLONE_NEWUSER */
    CRIB_CONFIG_USERNS = 2,       /* u32: 1 to create a user namespace first */
    CRIB_CONFIG_ROOTFS = 3,       /* string: host path of the rootfs mount point */
    CRIB_CONFIG_MOUNT = 4,        /* crib_mount_record followed by source, target, fstype, data, each NUL-ended */
    CRIB_CONFIG_HOSTNAME = 5,     /* string */
    CRIB_CONFIG_ARG = 6,          /* string, repeated: argv */
    CRIB_CONFIG_ENV = 7,          /* string, repeated: KEY=VALUE */
    CRIB_CONFIG_CWD = 8,          /* string */
    CRIB_CONFIG_USER = 9,         /* u32 uid, u32 gid, then u32 supplementary gids */
    CRIB_CONFIG_CAPS = 10,        /* u64 x5: bounding, effective, permitted, inheritable, ambient */
    CRIB_CONFIG_NO_NEW_PRIVS = 11,/* u32 */
    CRIB_CONFIG_SECCOMP = 12,     /* struct sock_filter[] */
    CRIB_CONFIG_PID_OFFSET = 13,  /* u32: value written to ns_last_pid before the app starts */
    CRIB_CONFIG_SETGROUPS = 14,   /* u32: 0 when the user namespace denies setgroups */
    CRIB_CONFIG_ROOTFS_FS = 15,   /* crib_mount_record + strings: how to mount the rootfs, or absent for a prepared directory */
    CRIB_CONFIG_REMOVE = 17,      /* string: delete this tree inside the user namespace, then exit */
    CRIB_CONFIG_CHOWN = 19,       /* u32 uid, u32 gid, string: give this tree to uid:gid inside the user namespace, then exit */
    CRIB_CONFIG_JOIN = 16,
    CRIB_CONFIG_REAP_ALL = 18,    /* u32: init signals every process and exits when the last one has */        /* u32 host PID of a running container's init, u32 1 to join its user namespace too */
};

/* Mount kinds: the first four run before pivot_root, the rest after it. */
enum crib_mount_kind {
    /* Before pivot_root, target resolved inside the rootfs. */
    CRIB_MOUNT_FS = 1,        /* mount(source, target, fstype, flags, data) */
    CRIB_MOUNT_BIND = 2,      /* bind a host path; flags add ro/nosuid/nodev/noexec by remount */
    CRIB_MOUNT_DEVICE = 3,    /* mknod a copy of the host node source, or bind it where mknod is refused */
    CRIB_MOUNT_SYMLINK = 4,   /* symlink target -> source */
    /* After pivot_root, target is an absolute path in the container. */
    CRIB_MOUNT_MASK = 5,      /* hide: /dev/null over a file, a read-only tmpfs over a directory */
    CRIB_MOUNT_READONLY = 6,  /* bind onto itself read-only, nosuid, nodev, noexec */
    CRIB_MOUNT_WRITABLE = 7,  /* bind onto itself read-write, under a read-only parent */
};

struct crib_mount_record {
    uint32_t kind;
    uint32_t reserved;
    uint64_t flags;
};

/* One failure, sent over the error pipe: which stage, what it did, and errno. */
#define CRIB_STAGE_EXEC "exec"
struct crib_error_record {
    int32_t error;
    char stage[32];
    char message[992];
};

/* Messages on the sync socket. */
#define CRIB_SYNC_USERNS 'U'      /* relay -> parent: user namespace created, write the maps */
#define CRIB_SYNC_MAPPED 'M'      /* parent -> relay: maps written */
#define CRIB_SYNC_PID 'P'         /* relay -> parent: followed by int32 host PID of init */
#define CRIB_SYNC_SOCKET 'S'      /* parent -> relay: followed by int32 family; reply carries the fd */

/* Helpers the Swift side calls in its own process. */

/* Opens path inside root as the container would see it (symlinks cannot leave root). */
int crib_open_in_root(int root_fd, const char *path, int flags);

/* Sends or receives one byte plus an optional descriptor over a unix socket. */
int crib_send_fd(int socket_fd, char byte, int fd);
int crib_receive_fd(int socket_fd, char *byte, int *fd);

/* pipe2(O_CLOEXEC), which Swift cannot import without _GNU_SOURCE. */
int crib_pipe_cloexec(int fds[2]);

/* Returns 1 when path is on a tmpfs, 0 when it is not, -1 with errno when statfs fails. */
int crib_is_tmpfs(const char *path);

/* Copies the file at path into a close-on-exec memfd sealed against writes and size changes.
   Returns the memfd, or -1 with errno set. */
int crib_sealed_copy(const char *path);

/* Writes mount flags by name ("MS_BIND|MS_RDONLY") into buffer. */
void crib_mount_flag_names(uint64_t flags, char *buffer, size_t size);

#endif
