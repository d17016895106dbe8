#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int crib_sync_fd = -1;

static void write_sync(const void *buffer, size_t length) {
    if (write(crib_sync_fd, buffer, length) != (ssize_t)length) crib_fail("sync", errno, "write to the parent");
}

static void read_sync(char expected) {
    char byte;
    ssize_t count;
    do {
        count = read(crib_sync_fd, &byte, 1);
    } while (count < 0 && errno == EINTR);
    if (count != 1) crib_fail("sync", count == 0 ? EPIPE : errno, "wait for the parent");
    if (byte != expected) crib_fail("sync", EPROTO, "expected '%c' from the parent, got '%c'", expected, byte);
}

/* The parent writes uid_map and gid_map: only a process outside the namespace may map more
   than its own id, and newuidmap needs the PID of a process inside it. */
static void enter_user_namespace(void) {
    if (unshare(CLONE_NEWUSER) < 0) crib_fail("userns", errno, "unshare CLONE_NEWUSER");
    char byte = CRIB_SYNC_USERNS;
    write_sync(&byte, 1);
    read_sync(CRIB_SYNC_MAPPED);
}

/* Creates unconnected sockets here, in the container's network namespace, and sends them to
   the parent, which connects published ports through them. Also forwards signals to init and
   exits with init's status. */
__attribute__((noreturn)) static void relay(pid_t init) {
    sigset_t set;
    sigfillset(&set);
    sigdelset(&set, SIGKILL);
    sigdelset(&set, SIGSTOP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int signals = signalfd(-1, &set, SFD_CLOEXEC);
    if (signals < 0) {
        kill(init, SIGKILL);
        crib_fail("relay", errno, "signalfd");
    }

    struct pollfd watched[2] = {{.fd = signals, .events = POLLIN}, {.fd = crib_sync_fd, .events = POLLIN}};
    /* A child that ended before SIGCHLD was blocked left no signal behind, only a zombie. */
    int check_child = 1;
    for (;;) {
        if (check_child) {
            int status;
            if (waitpid(init, &status, WNOHANG) == init) {
                if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
                _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 125);
            }
            check_child = 0;
        }
        if (poll(watched, 2, -1) < 0) continue;

        if (watched[1].revents & POLLIN) {
            char request[5];
            ssize_t count = read(crib_sync_fd, request, sizeof(request));
            if (count == sizeof(request) && request[0] == CRIB_SYNC_SOCKET) {
                int32_t family;
                memcpy(&family, request + 1, sizeof(family));
                int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                crib_send_fd(crib_sync_fd, fd >= 0 ? CRIB_SYNC_SOCKET : 'E', fd);
                if (fd >= 0) close(fd);
            } else if (count <= 0) {
                watched[1].fd = -1;
            }
        } else if (watched[1].revents & (POLLHUP | POLLERR)) {
            watched[1].fd = -1;
        }

        if (watched[0].revents & POLLIN) {
            struct signalfd_siginfo info;
            if (read(signals, &info, sizeof(info)) != sizeof(info)) continue;
            if (info.ssi_signo == SIGCHLD) check_child = 1;
            else kill(init, (int)info.ssi_signo);
        }
    }
}

__attribute__((noreturn)) static void report_pid_and_relay(pid_t child) {
    close(crib_error_fd);
    crib_error_fd = -1;
    char message[5] = {CRIB_SYNC_PID};
    int32_t host_pid = child;
    memcpy(message + 1, &host_pid, sizeof(host_pid));
    if (write(crib_sync_fd, message, sizeof(message)) != sizeof(message)) {
        /* The parent is gone; the container must not outlive it unattended. */
        kill(child, SIGKILL);
    }
    relay(child);
}

static void run_shim(const char *descriptors) {
    int config_fd, sync_fd, error_fd;
    if (sscanf(descriptors, "%d:%d:%d", &config_fd, &sync_fd, &error_fd) != 3) {
        dprintf(STDERR_FILENO, "crib: invalid %s=%s\n", CRIB_SHIM_FDS_ENV, descriptors);
        _exit(125);
    }
    crib_error_fd = error_fd;
    crib_sync_fd = sync_fd;

    struct crib_config config;
    if (crib_read_config(config_fd, &config) < 0) crib_fail("config", errno, "read the container configuration");
    close(config_fd);
    /* Whatever else crib inherited stays out of the container: the relay and init live on. */
    int highest = sync_fd > error_fd ? sync_fd : error_fd;
    for (int fd = 3; fd < highest; fd++) {
        if (fd != sync_fd && fd != error_fd) close(fd);
    }
    syscall(SYS_close_range, highest + 1, ~0U, 0);

    prctl(PR_SET_NAME, "crib-shim", 0, 0, 0);
    /* A container whose crib is gone has no one to report to, so it dies with crib; init dies with the relay below. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (config.join_pid > 0) {
        crib_join_namespaces(config.join_pid, config.join_userns);
        /* setns into a PID namespace only places children there. */
        pid_t app = fork();
        if (app < 0) crib_fail("join", errno, "fork");
        if (app == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            close(crib_sync_fd);
            crib_sync_fd = -1;
            crib_exec_app(&config);
        }
        report_pid_and_relay(app);
    }

    if (config.userns) enter_user_namespace();
    if (config.remove_path) crib_remove_tree(config.remove_path);
    if (config.chown_path) crib_chown_tree(config.chown_path, config.chown_uid, config.chown_gid);
    if (unshare((int)config.namespaces) < 0) crib_fail("namespaces", errno, "unshare 0x%x", config.namespaces);
    /* Nothing mounted from here on may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        crib_fail_mount("namespaces", errno, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (config.namespaces & CLONE_NEWNET) crib_loopback_up();
    if ((config.namespaces & CLONE_NEWUTS) && config.hostname &&
        sethostname(config.hostname, strlen(config.hostname)) < 0)
        crib_fail("namespaces", errno, "sethostname %s", config.hostname);

    /* The first child in the new PID namespace is its PID 1. */
    pid_t init = fork();
    if (init < 0) crib_fail("namespaces", errno, "fork init");
    if (init == 0) {
        /* Sent from outside this PID namespace, so SIGKILL reaches its init. */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        close(crib_sync_fd);
        crib_sync_fd = -1;
        crib_setup_rootfs(&config);
        crib_run_init(&config);
    }

    report_pid_and_relay(init);
}

/* Runs before the Swift runtime starts when crib was spawned as a container's shim. */
__attribute__((constructor)) static void crib_shim_entry(void) {
    const char *descriptors = getenv(CRIB_SHIM_FDS_ENV);
    if (!descriptors) return;
    run_shim(descriptors);
    _exit(125);
}
