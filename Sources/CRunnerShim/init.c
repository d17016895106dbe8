#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void ignore_signal(int signal_number) { (void)signal_number; }

/* The kernel drops signals sent to a namespace's init that it has no handler for, so each
   signal that should reach the application gets an empty handler and then waits blocked. */
static void install_forwarding(sigset_t *forwarded) {
    sigfillset(forwarded);
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = ignore_signal;
    for (int number = 1; number < NSIG; number++) {
        if (number == SIGKILL || number == SIGSTOP) continue;
        sigaction(number, &action, NULL);
    }
}

static void restore_signals(const sigset_t *original) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    for (int number = 1; number < NSIG; number++) {
        if (number == SIGKILL || number == SIGSTOP) continue;
        sigaction(number, &action, NULL);
    }
    sigprocmask(SIG_SETMASK, original, NULL);
}

/* A restore needs the PIDs its processes had. Starting the application above a fixed offset
   keeps those PIDs clear of the few that the runtime and CRIU's own helpers take first. */
static void raise_last_pid(uint32_t offset) {
    if (offset == 0) return;
    int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (fd < 0) crib_fail("init", errno, "open /proc/sys/kernel/ns_last_pid");
    char text[16];
    int length = snprintf(text, sizeof(text), "%u", offset);
    if (write(fd, text, (size_t)length) != length) crib_fail("init", errno, "write %u to ns_last_pid", offset);
    close(fd);
}

static int exit_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 125;
}

void crib_run_init(const struct crib_config *config) {
    prctl(PR_SET_NAME, "crib-init", 0, 0, 0);
    raise_last_pid(config->pid_offset);
    crib_finish_mounts(config);

    sigset_t all, original;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &original);
    install_forwarding(&all);

    /* Non-dumpable: the application cannot ptrace init or open its /proc entries, which would
       hand it init's capabilities. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) crib_fail("init", errno, "prctl PR_SET_DUMPABLE");

    pid_t app = fork();
    if (app < 0) crib_fail("init", errno, "fork the application");
    if (app == 0) {
        restore_signals(&original);
        crib_exec_app(config);
    }
    /* From here the application reports its own failures; the pipe closes when it execs. */
    close(crib_error_fd);
    crib_error_fd = -1;

    int last_status = 0;
    for (;;) {
        siginfo_t info;
        int number = sigwaitinfo(&all, &info);
        if (number < 0) continue;
        if (number != SIGCHLD) {
            /* kill(-1) from a namespace's init reaches every process in it but init. */
            kill(config->reap_all ? -1 : app, number);
            continue;
        }
        int status;
        pid_t reaped;
        while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
            if (!config->reap_all && reaped == app) _exit(exit_status(status));
            last_status = status;
        }
        /* ECHILD: every process of the container has ended; the last one's status is the container's. */
        if (config->reap_all && reaped < 0 && errno == ECHILD) _exit(exit_status(last_status));
    }
}
