#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_full(int fd, void *buffer, size_t length) {
    char *cursor = buffer;
    while (length > 0) {
        ssize_t count = read(fd, cursor, length);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) {
            if (count == 0) errno = EPIPE;
            return -1;
        }
        cursor += count;
        length -= (size_t)count;
    }
    return 0;
}

static int append_pointer(char ***list, size_t *count, char *value) {
    char **grown = realloc(*list, sizeof(char *) * (*count + 2));
    if (!grown) return -1;
    grown[(*count)++] = value;
    grown[*count] = NULL;
    *list = grown;
    return 0;
}

/* Splits a mount payload: the record, then four NUL-ended strings. */
static int parse_mount(const char *payload, uint32_t length, struct crib_mount *mount) {
    if (length < sizeof(struct crib_mount_record) || payload[length - 1] != '\0') return -1;
    struct crib_mount_record record;
    memcpy(&record, payload, sizeof(record));
    mount->kind = record.kind;
    mount->flags = record.flags;
    const char *fields[4];
    const char *cursor = payload + sizeof(record);
    const char *end = payload + length;
    for (int i = 0; i < 4; i++) {
        if (cursor >= end) return -1;
        fields[i] = cursor;
        cursor += strlen(cursor) + 1;
    }
    mount->source = fields[0][0] ? fields[0] : NULL;
    mount->target = fields[1];
    mount->fstype = fields[2][0] ? fields[2] : NULL;
    mount->data = fields[3][0] ? fields[3] : NULL;
    return 0;
}

int crib_read_config(int fd, struct crib_config *config) {
    memset(config, 0, sizeof(*config));
    config->cwd = "/";
    config->setgroups_allowed = 1;

    for (;;) {
        uint32_t header[2];
        if (read_full(fd, header, sizeof(header)) < 0) return -1;
        uint32_t tag = header[0], length = header[1];
        if (tag == CRIB_CONFIG_END) return 0;
        if (length > (64u << 20)) {
            errno = EMSGSIZE;
            return -1;
        }

        /* One extra NUL so that string payloads need no copy. The shim never frees these. */
        char *payload = malloc(length + 1);
        if (!payload) return -1;
        if (read_full(fd, payload, length) < 0) return -1;
        payload[length] = '\0';
        uint32_t number = 0;
        if (length >= 4) memcpy(&number, payload, 4);

        switch (tag) {
        case CRIB_CONFIG_NAMESPACES: config->namespaces = number; break;
        case CRIB_CONFIG_USERNS: config->userns = number != 0; break;
        case CRIB_CONFIG_ROOTFS: config->rootfs = payload; break;
        case CRIB_CONFIG_REAP_ALL: config->reap_all = number != 0; break;
        case CRIB_CONFIG_REMOVE: config->remove_path = payload; break;
        case CRIB_CONFIG_CHOWN:
            if (length < 9) goto invalid;
            config->chown_uid = number;
            memcpy(&number, payload + 4, 4);
            config->chown_gid = number;
            config->chown_path = payload + 8;
            break;
        case CRIB_CONFIG_HOSTNAME: config->hostname = payload; break;
        case CRIB_CONFIG_CWD: config->cwd = payload; break;
        case CRIB_CONFIG_NO_NEW_PRIVS: config->no_new_privs = number != 0; break;
        case CRIB_CONFIG_PID_OFFSET: config->pid_offset = number; break;
        case CRIB_CONFIG_SETGROUPS: config->setgroups_allowed = number != 0; break;
        case CRIB_CONFIG_ARG:
            if (append_pointer(&config->argv, &config->argc, payload) < 0) return -1;
            break;
        case CRIB_CONFIG_ENV:
            if (append_pointer(&config->envp, &config->envc, payload) < 0) return -1;
            break;
        case CRIB_CONFIG_USER: {
            if (length < 8 || length % 4 != 0) goto invalid;
            uint32_t *ids = (uint32_t *)(void *)payload;
            config->uid = ids[0];
            config->gid = ids[1];
            config->group_count = length / 4 - 2;
            config->groups = calloc(config->group_count + 1, sizeof(gid_t));
            if (!config->groups) return -1;
            for (size_t i = 0; i < config->group_count; i++) config->groups[i] = ids[2 + i];
            break;
        }
        case CRIB_CONFIG_CAPS:
            if (length != sizeof(config->caps)) goto invalid;
            memcpy(config->caps, payload, sizeof(config->caps));
            break;
        case CRIB_CONFIG_SECCOMP:
            config->seccomp = payload;
            config->seccomp_length = length;
            break;
        case CRIB_CONFIG_JOIN:
            if (length != 8) goto invalid;
            config->join_pid = (pid_t)number;
            memcpy(&number, payload + 4, 4);
            config->join_userns = number != 0;
            break;
        case CRIB_CONFIG_ROOTFS_FS:
            if (parse_mount(payload, length, &config->rootfs_fs) < 0) goto invalid;
            config->has_rootfs_fs = 1;
            break;
        case CRIB_CONFIG_MOUNT: {
            struct crib_mount *grown = realloc(config->mounts, sizeof(struct crib_mount) * (config->mount_count + 1));
            if (!grown) return -1;
            config->mounts = grown;
            if (parse_mount(payload, length, &config->mounts[config->mount_count]) < 0) goto invalid;
            config->mount_count++;
            break;
        }
        default:
            goto invalid;
        }
        continue;
    invalid:
        errno = EINVAL;
        return -1;
    }
}
