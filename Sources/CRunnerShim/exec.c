#include "internal.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static void drop_bounding(uint64_t keep) {
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break; /* past the kernel's last capability */
        if (keep & (1ULL << cap)) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) crib_fail("capabilities", errno, "drop capability %d from the bounding set", cap);
    }
}

static void set_capabilities(const uint64_t caps[5]) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(caps[CRIB_CAPS_EFFECTIVE] >> (32 * i));
        data[i].permitted = (uint32_t)(caps[CRIB_CAPS_PERMITTED] >> (32 * i));
        data[i].inheritable = (uint32_t)(caps[CRIB_CAPS_INHERITABLE] >> (32 * i));
    }
    if (syscall(SYS_capset, &header, data) < 0) crib_fail("capabilities", errno, "capset");

    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) crib_fail("capabilities", errno, "clear ambient capabilities");
    for (int cap = 0; cap < 64; cap++) {
        if (!(caps[CRIB_CAPS_AMBIENT] & (1ULL << cap))) continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) crib_fail("capabilities", errno, "raise ambient capability %d", cap);
    }
}

static void install_seccomp(const struct crib_config *config) {
    struct sock_fprog program = {
        .len = (unsigned short)(config->seccomp_length / sizeof(struct sock_filter)),
        .filter = (struct sock_filter *)config->seccomp,
    };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) < 0) crib_fail("seccomp", errno, "load the seccomp filter");
}

void crib_exec_app(const struct crib_config *config) {
    if (config->argc == 0) crib_fail(CRIB_STAGE_EXEC, ENOENT, "no command to run");
    if (setsid() < 0) crib_fail("exec", errno, "setsid");
    if (chdir(config->cwd) < 0) crib_fail("exec", errno, "chdir %s", config->cwd);

    drop_bounding(config->caps[CRIB_CAPS_BOUNDING]);
    /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which is about to go; the
       profile then has to allow the few calls below (Docker's does). */
    int has_seccomp = config->seccomp_length > 0;
    if (has_seccomp && !config->no_new_privs) install_seccomp(config);

    /* KEEPCAPS carries the permitted set across the switch away from uid 0; capset then
       chooses what stays. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) crib_fail("user", errno, "prctl PR_SET_KEEPCAPS");
    if (config->setgroups_allowed && setgroups(config->group_count, config->groups) < 0)
        crib_fail("user", errno, "setgroups (%zu groups)", config->group_count);
    if (setresgid(config->gid, config->gid, config->gid) < 0) crib_fail("user", errno, "setgid %u", config->gid);
    if (setresuid(config->uid, config->uid, config->uid) < 0) crib_fail("user", errno, "setuid %u", config->uid);
    set_capabilities(config->caps);

    if (config->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) crib_fail("exec", errno, "prctl PR_SET_NO_NEW_PRIVS");

    /* Every descriptor but stdio closes at exec, so no host descriptor reaches the container;
       the error pipe stays usable until then. */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) crib_fail("exec", errno, "close_range");

    /* Last, so that the filter has to allow nothing but execve. */
    if (has_seccomp && config->no_new_privs) install_seccomp(config);

    environ = config->envp;
    execvp(config->argv[0], config->argv);
    crib_fail(CRIB_STAGE_EXEC, errno, "exec %s", config->argv[0]);
}
