#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int sah_outbox_init(sah_outbox *box) {
    box->head = box->tail = NULL;
    box->closed = 0;
    box->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (box->eventfd < 0) return -1;
    if (pthread_mutex_init(&box->lock, NULL) != 0) {
        close(box->eventfd);
        box->eventfd = -1;
        return -1;
    }
    return 0;
}

static void free_list(sah_msg *msg) {
    while (msg) {
        sah_msg *next = msg->next;
        free(msg);
        msg = next;
    }
}

void sah_outbox_destroy(sah_outbox *box) {
    if (box->eventfd < 0) return;
    free_list(box->head);
    box->head = box->tail = NULL;
    pthread_mutex_destroy(&box->lock);
    close(box->eventfd);
    box->eventfd = -1;
}

/* Layout of one block: the message, the header array, the header strings, the body. */
sah_msg *sah_msg_new(int kind, uint64_t id, int status, const sa_http_header *headers, size_t header_count,
                     const uint8_t *body, size_t body_len) {
    size_t kept = 0, text = 0;
    for (size_t i = 0; i < header_count; i++) {
        const sa_http_header *h = &headers[i];
        if (!sah_header_allowed(h->name, h->name_len, h->value, h->value_len)) continue;
        kept++;
        text += h->name_len + h->value_len;
    }
    size_t size = sizeof(sah_msg) + kept * sizeof(sa_http_header) + text + body_len;
    sah_msg *msg = malloc(size);
    if (!msg) return NULL;
    *msg = (sah_msg){.kind = kind, .id = id, .status = status};
    msg->headers = (sa_http_header *)(msg + 1);
    char *p = (char *)(msg->headers + kept);
    for (size_t i = 0; i < header_count; i++) {
        const sa_http_header *h = &headers[i];
        if (!sah_header_allowed(h->name, h->name_len, h->value, h->value_len)) continue;
        sa_http_header *copy = &msg->headers[msg->header_count++];
        memcpy(p, h->name, h->name_len);
        *copy = (sa_http_header){.name = p, .name_len = h->name_len};
        p += h->name_len;
        if (h->value_len) memcpy(p, h->value, h->value_len);
        copy->value = p;
        copy->value_len = h->value_len;
        p += h->value_len;
    }
    msg->body = (uint8_t *)p;
    msg->body_len = body_len;
    if (body_len) memcpy(p, body, body_len);
    return msg;
}

void sah_outbox_wake(sah_outbox *box) {
    uint64_t one = 1;
    while (write(box->eventfd, &one, sizeof one) < 0 && errno == EINTR) {}
}

int sah_outbox_push(sah_outbox *box, sah_msg *msg) {
    pthread_mutex_lock(&box->lock);
    if (box->closed) {
        pthread_mutex_unlock(&box->lock);
        free(msg);
        return -1;
    }
    int was_empty = box->head == NULL;
    msg->next = NULL;
    if (box->tail) box->tail->next = msg;
    else box->head = msg;
    box->tail = msg;
    pthread_mutex_unlock(&box->lock);
    /* The loop takes the whole queue per wake-up, so only the first message needs to wake it. */
    if (was_empty) sah_outbox_wake(box);
    return 0;
}

sah_msg *sah_outbox_take(sah_outbox *box) {
    uint64_t count;
    while (read(box->eventfd, &count, sizeof count) < 0 && errno == EINTR) {}
    pthread_mutex_lock(&box->lock);
    sah_msg *list = box->head;
    box->head = box->tail = NULL;
    pthread_mutex_unlock(&box->lock);
    return list;
}

void sah_outbox_close(sah_outbox *box) {
    pthread_mutex_lock(&box->lock);
    box->closed = 1;
    sah_msg *list = box->head;
    box->head = box->tail = NULL;
    pthread_mutex_unlock(&box->lock);
    free_list(list);
}
