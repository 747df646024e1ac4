// heapcount.so: an LD_PRELOAD malloc counter for finding what an idle connection holds.
//
// Counts live heap blocks by usable size (16-byte classes). SIGUSR2 writes the counts to
// $HEAPCOUNT_DIR/dump.<pid>.<n> as "<size> <live blocks> <live bytes>" lines. With
// HEAPCOUNT_SIZE=<size>, every 7th block of that size class records its allocation stack;
// the stacks of those still live are appended to $HEAPCOUNT_DIR/stacks.txt at each dump.
// A diagnostic tool for benchmarks/heap-by-size/run.sh, never linked into the product.
#define _GNU_SOURCE
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

#define CLASSES 4097 /* 16-byte classes up to 64 KiB, then one for everything larger */
#define SLOTS 8192
#define FRAMES 16

static long live_blocks[CLASSES], live_bytes[CLASSES];
static long traced_size = -1, traced_seen = 0;
static char directory[512] = "/tmp";
static __thread int in_backtrace = 0;

typedef struct { void *block; int frames; void *frame[FRAMES]; } trace_t;
static trace_t traces[SLOTS];
static int trace_lock = 0;
static void lock_traces(void) { while (__atomic_exchange_n(&trace_lock, 1, __ATOMIC_ACQUIRE)) {} }
static void unlock_traces(void) { __atomic_store_n(&trace_lock, 0, __ATOMIC_RELEASE); }

static int class_of(size_t usable) { size_t c = usable / 16; return c < CLASSES - 1 ? (int)c : CLASSES - 1; }

static void counted(void *block) {
    if (!block) return;
    size_t usable = malloc_usable_size(block);
    int c = class_of(usable);
    __atomic_fetch_add(&live_blocks[c], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&live_bytes[c], (long)usable, __ATOMIC_RELAXED);
    if (traced_size < 0 || in_backtrace || (long)(usable / 16 * 16) != traced_size) return;
    if (__atomic_fetch_add(&traced_seen, 1, __ATOMIC_RELAXED) % 7 != 3) return;
    in_backtrace = 1;
    void *frame[FRAMES];
    int frames = backtrace(frame, FRAMES);
    lock_traces();
    for (int i = 0; i < SLOTS; i++) {
        if (traces[i].block) continue;
        traces[i].block = block;
        traces[i].frames = frames;
        memcpy(traces[i].frame, frame, sizeof frame);
        break;
    }
    unlock_traces();
    in_backtrace = 0;
}

static void uncounted(void *block) {
    if (!block) return;
    size_t usable = malloc_usable_size(block);
    int c = class_of(usable);
    __atomic_fetch_sub(&live_blocks[c], 1, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&live_bytes[c], (long)usable, __ATOMIC_RELAXED);
    if (traced_size < 0 || (long)(usable / 16 * 16) != traced_size) return;
    lock_traces();
    for (int i = 0; i < SLOTS; i++) {
        if (traces[i].block == block) { traces[i].block = NULL; break; }
    }
    unlock_traces();
}

void *malloc(size_t size) { void *p = __libc_malloc(size); counted(p); return p; }
void free(void *p) { uncounted(p); __libc_free(p); }
void *calloc(size_t n, size_t size) { void *p = __libc_calloc(n, size); counted(p); return p; }
void *realloc(void *old, size_t size) {
    uncounted(old);
    void *p = __libc_realloc(old, size);
    if (p) counted(p); else if (old && size) counted(old);
    return p;
}
void *memalign(size_t alignment, size_t size) { void *p = __libc_memalign(alignment, size); counted(p); return p; }
void *aligned_alloc(size_t alignment, size_t size) { return memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    void *p = __libc_memalign(alignment, size);
    if (!p) return 12; /* ENOMEM */
    counted(p);
    *out = p;
    return 0;
}

static void dump(int signal_number) {
    (void)signal_number;
    static int dumps = 0;
    char path[640], line[96];
    snprintf(path, sizeof path, "%s/dump.%d.%d", directory, getpid(), dumps++);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    for (int c = 0; c < CLASSES; c++) {
        if (!live_blocks[c]) continue;
        int n = snprintf(line, sizeof line, "%d %ld %ld\n", c * 16, live_blocks[c], live_bytes[c]);
        if (write(fd, line, (size_t)n) < 0) break;
    }
    close(fd);
    if (traced_size < 0) return;
    snprintf(path, sizeof path, "%s/stacks.txt", directory);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    lock_traces();
    for (int i = 0; i < SLOTS; i++) {
        if (!traces[i].block) continue;
        backtrace_symbols_fd(traces[i].frame, traces[i].frames, fd);
        if (write(fd, "--\n", 3) < 0) break;
    }
    unlock_traces();
    close(fd);
}

__attribute__((constructor)) static void start(void) {
    const char *dir = getenv("HEAPCOUNT_DIR");
    if (dir) snprintf(directory, sizeof directory, "%s", dir);
    const char *size = getenv("HEAPCOUNT_SIZE");
    if (size) traced_size = atol(size);
    signal(SIGUSR2, dump);
}
