#include "thread_scratch.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
    void *buffer[SA_SCRATCH_SLOTS];
    size_t capacity[SA_SCRATCH_SLOTS];
} scratch_set;

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void free_set(void *p) {
    scratch_set *set = p;
    for (int i = 0; i < SA_SCRATCH_SLOTS; i++) free(set->buffer[i]);
    free(set);
}

static void make_key(void) { key_ok = pthread_key_create(&key, free_set) == 0; }

void *sa_thread_scratch(sa_scratch_slot slot, size_t bytes) {
    pthread_once(&key_once, make_key);
    if (!key_ok || slot < 0 || slot >= SA_SCRATCH_SLOTS) return NULL;
    scratch_set *set = pthread_getspecific(key);
    if (!set) {
        set = calloc(1, sizeof *set);
        if (!set || pthread_setspecific(key, set) != 0) {
            free(set);
            return NULL;
        }
    }
    if (set->capacity[slot] < bytes) {
        size_t rounded = (bytes + 63) / 64 * 64;
        void *grown = aligned_alloc(64, rounded);
        if (!grown) return NULL;
        free(set->buffer[slot]);
        set->buffer[slot] = grown;
        set->capacity[slot] = rounded;
    }
    return set->buffer[slot];
}
