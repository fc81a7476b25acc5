/*
 * ev_uring_setup.c — creating an io_uring of the best flavour the kernel
 * accepts, detecting the features the I/O path may use, registering the
 * provided buffers, and probing whether the backend is usable at all (with
 * a reason an operator can act on when it is not). See ev_uring.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/net/ev_uring.h"

static bool env_on(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0");
}

/* The flavours of ev_uring.h, best first, each with a large CQ and no stop
 * at a bad SQE; a kernel that refuses one (-EINVAL) gets the next. The ring
 * is halved where locked memory is short (kernels before 5.12). */
int ur_ring_init(ur_loop *l)
{
    enum {
        BASE = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL,
        DEFER = BASE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_R_DISABLED,
        COOP = BASE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
    };
    static const unsigned tries[] = {DEFER, COOP, IORING_SETUP_CQSIZE, 0};
    size_t first = env_on("FC_URING_NO_DEFER") ? 1 : 0;
    int r = -EINVAL;
    for (unsigned sq = UR_SQ_ENTRIES; sq >= 64; sq /= 2) {
        for (size_t i = first; i < sizeof(tries) / sizeof(tries[0]); i++) {
            struct io_uring_params p = {.flags = tries[i],
                                        .cq_entries = sq * 8};
            r = io_uring_queue_init_params(sq, &l->ring, &p);
            if (r != -EINVAL) {
                l->disabled = r == 0 && (tries[i] & IORING_SETUP_R_DISABLED);
                break;
            }
        }
        if (r != -ENOMEM)
            break;
    }
    return r;
}

int ur_ring_enable(ur_loop *l)
{
    /* liburing 2.3 declares io_uring_enable_rings but does not export it. */
    long r = syscall(__NR_io_uring_register, l->ring.ring_fd,
                     IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    if (r < 0)
        return -errno;
    l->disabled = false;
    return 0;
}

/* Multishot variants cannot be probed as opcodes: an opcode that came with
 * the same kernel release stands for each; a kernel that still refuses one
 * answers -EINVAL, and the loop then falls back at run time. */
unsigned ur_detect_features(struct io_uring *ring)
{
    struct io_uring_probe *p = io_uring_get_probe_ring(ring);
    unsigned f = 0;
    if (!p)
        return 0;
    if (io_uring_opcode_supported(p, IORING_OP_MKDIRAT))
        f |= UF_MS_POLL;
    if (io_uring_opcode_supported(p, IORING_OP_SOCKET))
        f |= UF_MS_ACCEPT | UF_POLL_FIRST;
    if (io_uring_opcode_supported(p, IORING_OP_SEND_ZC))
        f |= UF_MS_RECV;
    if (io_uring_opcode_supported(p, IORING_OP_MSG_RING) &&
        (ring->features & IORING_FEAT_CQE_SKIP))
        f |= UF_MSG_RING;
    io_uring_free_probe(p);
    if (env_on("FC_URING_NO_MULTISHOT"))
        f &= UF_POLL_FIRST | UF_MSG_RING;
    return f;
}

/* The provided buffers multishot recv draws from (5.19: -EINVAL before). */
bool ur_bufring_init(ur_loop *l)
{
    void *mem = NULL;
    long page = sysconf(_SC_PAGESIZE);
    size_t rsz = UR_NBUFS * sizeof(struct io_uring_buf);
    if (posix_memalign(&mem, page > 0 ? (size_t)page : 4096, rsz))
        return false;
    memset(mem, 0, rsz);
    l->bufs = malloc((size_t)UR_NBUFS * UR_BUF_SIZE);
    struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)mem,
                                   .ring_entries = UR_NBUFS,
                                   .bgid = UR_BGID};
    if (!l->bufs || io_uring_register_buf_ring(&l->ring, &reg, 0)) {
        free(l->bufs);
        free(mem);
        l->bufs = NULL;
        return false;
    }
    l->br = mem;
    io_uring_buf_ring_init(l->br);
    for (unsigned i = 0; i < UR_NBUFS; i++)
        io_uring_buf_ring_add(l->br, l->bufs + (size_t)i * UR_BUF_SIZE,
                              UR_BUF_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(UR_NBUFS), (int)i);
    io_uring_buf_ring_advance(l->br, (int)UR_NBUFS);
    return true;
}

/* Why io_uring_setup failed, in words an operator can act on. */
static void setup_reason(int err, char *why, size_t whylen)
{
    int off = -1;
    FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
    if (f) {
        if (fscanf(f, "%d", &off) != 1)
            off = -1;
        fclose(f);
    }
    const char *hint = "";
    if (err == ENOMEM)
        hint = " (RLIMIT_MEMLOCK too low?)";
    else if (err == EPERM || err == ENOSYS)
        hint = " (not built in, or blocked by seccomp, an LSM or the "
               "container)";
    if (err == EPERM && off > 0)
        snprintf(why, whylen,
                 "io_uring is disabled by sysctl kernel.io_uring_disabled=%d",
                 off);
    else
        snprintf(why, whylen, "io_uring_setup: %s%s", strerror(err), hint);
}

/* Whether the kernel has what this backend cannot do without. */
static bool usable(struct io_uring *ring, char *why, size_t whylen)
{
    static const int ops[] = {IORING_OP_ACCEPT, IORING_OP_RECV, IORING_OP_SEND,
                              IORING_OP_POLL_ADD, IORING_OP_ASYNC_CANCEL};
    static const char *const names[] = {"ACCEPT", "RECV", "SEND", "POLL_ADD",
                                        "ASYNC_CANCEL"};
    /* Without fast poll a recv on an idle socket would hold a kernel
     * worker thread per connection. */
    if (!(ring->features & IORING_FEAT_FAST_POLL) ||
        !(ring->features & IORING_FEAT_NODROP)) {
        snprintf(why, whylen,
                 "kernel too old (io_uring without fast poll "
                 "or no-drop CQ; 5.7+ needed)");
        return false;
    }
    struct io_uring_probe *p = io_uring_get_probe_ring(ring);
    if (!p) {
        snprintf(why, whylen, "kernel cannot list io_uring opcodes (5.6+)");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < sizeof(ops) / sizeof(ops[0]); i++) {
        ok = io_uring_opcode_supported(p, ops[i]);
        if (!ok)
            snprintf(why, whylen, "kernel lacks IORING_OP_%s", names[i]);
    }
    io_uring_free_probe(p);
    return ok;
}

bool ur_probe(char *why, size_t whylen)
{
    struct io_uring ring;
    int r = io_uring_queue_init(8, &ring, 0);
    if (r < 0) {
        setup_reason(-r, why, whylen);
        return false;
    }
    bool ok = usable(&ring, why, whylen);
    io_uring_queue_exit(&ring);
    return ok;
}
