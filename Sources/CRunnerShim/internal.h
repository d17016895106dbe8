#ifndef CRIB_SHIM_INTERNAL_H
#define CRIB_SHIM_INTERNAL_H

/* Must come before any libc header: unshare, O_PATH, setresuid and friends are GNU extensions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "crib_shim.h"
#include <sys/types.h>

struct crib_mount {
    uint32_t kind;
    uint64_t flags;
    const char *source;
    const char *target;
    const char *fstype;
    const char *data;
};

struct crib_config {
    uint32_t namespaces;
    int userns;
    const char *rootfs;
    int has_rootfs_fs;
    struct crib_mount rootfs_fs;
    struct crib_mount *mounts;
    size_t mount_count;
    const char *hostname;
    char **argv;
    size_t argc;
    char **envp;
    size_t envc;
    const char *cwd;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t group_count;
    int setgroups_allowed;
    uint64_t caps[5];
    int no_new_privs;
    const void *seccomp;
    size_t seccomp_length;
    uint32_t pid_offset;
    const char *remove_path;
    const char *chown_path;
    uid_t chown_uid;
    gid_t chown_gid;
    int reap_all;
    pid_t join_pid;
    int join_userns;
};

enum { CRIB_CAPS_BOUNDING, CRIB_CAPS_EFFECTIVE, CRIB_CAPS_PERMITTED, CRIB_CAPS_INHERITABLE, CRIB_CAPS_AMBIENT };

/* The descriptors the parent passed, fixed for the life of the shim. */
extern int crib_sync_fd;
extern int crib_error_fd;

/* config.c */
int crib_read_config(int fd, struct crib_config *config);

/* report.c: send a record over the error pipe and _exit. The message names errno. */
__attribute__((noreturn, format(printf, 3, 4)))
void crib_fail(const char *stage, int error, const char *format, ...);
__attribute__((noreturn))
void crib_fail_mount(const char *stage, int error, const char *source, const char *target, const char *fstype,
                     uint64_t flags, const char *data);

/* join.c */
void crib_join_namespaces(pid_t pid, int with_user);

/* remove.c */
__attribute__((noreturn)) void crib_remove_tree(const char *path);
__attribute__((noreturn)) void crib_chown_tree(const char *path, uid_t uid, gid_t gid);

/* network.c */
void crib_loopback_up(void);

/* rootfs.c */
void crib_setup_rootfs(const struct crib_config *config);

/* paths.c */
int crib_resolve_target(int root_fd, const char *path, int create_as_file);
int crib_open_no_symlinks(int root_fd, const char *path, int flags);

/* protect.c */
void crib_finish_mounts(const struct crib_config *config);

/* init.c */
__attribute__((noreturn)) void crib_run_init(const struct crib_config *config);

/* exec.c */
__attribute__((noreturn)) void crib_exec_app(const struct crib_config *config);

#endif
