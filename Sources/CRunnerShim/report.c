#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int crib_error_fd = -1;

void crib_fail(const char *stage, int error, const char *format, ...) {
    struct crib_error_record record;
    memset(&record, 0, sizeof(record));
    record.error = error;
    snprintf(record.stage, sizeof(record.stage), "%s", stage);

    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(record.message, sizeof(record.message), format, arguments);
    va_end(arguments);
    if (error != 0 && length >= 0 && (size_t)length < sizeof(record.message)) {
        snprintf(record.message + length, sizeof(record.message) - (size_t)length, ": %s (errno %d)",
                 strerror(error), error);
    }

    if (crib_error_fd >= 0) {
        ssize_t ignored = write(crib_error_fd, &record, sizeof(record));
        (void)ignored;
    } else {
        dprintf(STDERR_FILENO, "crib: %s: %s\n", record.stage, record.message);
    }
    /* 127 and 126 mirror a shell's statuses so that a lost record still maps correctly. */
    if (strcmp(stage, CRIB_STAGE_EXEC) == 0) _exit(error == ENOENT ? 127 : 126);
    _exit(125);
}

static const struct {
    uint64_t flag;
    const char *name;
} mount_flags[] = {
    {MS_RDONLY, "MS_RDONLY"},       {MS_NOSUID, "MS_NOSUID"},       {MS_NODEV, "MS_NODEV"},
    {MS_NOEXEC, "MS_NOEXEC"},       {MS_SYNCHRONOUS, "MS_SYNCHRONOUS"}, {MS_REMOUNT, "MS_REMOUNT"},
    {MS_MANDLOCK, "MS_MANDLOCK"},   {MS_DIRSYNC, "MS_DIRSYNC"},     {MS_NOATIME, "MS_NOATIME"},
    {MS_NODIRATIME, "MS_NODIRATIME"}, {MS_BIND, "MS_BIND"},         {MS_MOVE, "MS_MOVE"},
    {MS_REC, "MS_REC"},             {MS_SILENT, "MS_SILENT"},       {MS_UNBINDABLE, "MS_UNBINDABLE"},
    {MS_PRIVATE, "MS_PRIVATE"},     {MS_SLAVE, "MS_SLAVE"},         {MS_SHARED, "MS_SHARED"},
    {MS_RELATIME, "MS_RELATIME"},   {MS_STRICTATIME, "MS_STRICTATIME"}, {MS_LAZYTIME, "MS_LAZYTIME"},
};

void crib_mount_flag_names(uint64_t flags, char *buffer, size_t size) {
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t i = 0; i < sizeof(mount_flags) / sizeof(mount_flags[0]); i++) {
        if ((flags & mount_flags[i].flag) == 0) continue;
        int written = snprintf(buffer + used, size - used, "%s%s", used ? "|" : "", mount_flags[i].name);
        if (written < 0 || (size_t)written >= size - used) return;
        used += (size_t)written;
        flags &= ~mount_flags[i].flag;
    }
    if (flags != 0) snprintf(buffer + used, size - used, "%s0x%llx", used ? "|" : "", (unsigned long long)flags);
    if (buffer[0] == '\0') snprintf(buffer, size, "0");
}

void crib_fail_mount(const char *stage, int error, const char *source, const char *target, const char *fstype,
                     uint64_t flags, const char *data) {
    char names[256];
    crib_mount_flag_names(flags, names, sizeof(names));
    crib_fail(stage, error, "mount %s on %s (type %s, flags %s, data \"%s\")", source ? source : "none", target,
              fstype ? fstype : "none", names, data ? data : "");
}
