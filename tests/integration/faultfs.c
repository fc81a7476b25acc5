/*
 * faultfs.c — LD_PRELOAD fault injector for test_persistence_crash.py.
 * While the file named by env FAULT_FILE exists, write(), writev(),
 * pwrite(), pwritev(), fsync() and fdatasync() on a file whose path
 * contains "wal-" fail with ENOSPC (nothing is written). Every other call
 * goes straight to libc. The control file is checked with access() on each
 * call, and only then is the descriptor's path read from /proc/self/fd.
 * While the file named by env HOLD_FILE exists, open() of a path whose
 * file name contains "wal-" or "snap-" waits (at most 60 s): recovery is
 * held in its loading phase for as long as a test needs.
 *
 * Build: cc -shared -fPIC -o faultfs.so faultfs.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int faulty(int fd)
{
    const char *ctl = getenv("FAULT_FILE");
    if (!ctl || access(ctl, F_OK) != 0)
        return 0;
    char link[64], path[4096];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return 0;
    path[n] = 0;
    const char *base = strrchr(path, '/');
    return strstr(base ? base : path, "wal-") != NULL;
}

#define REAL(ret, name, ...)                                                \
    static ret (*real_##name)(__VA_ARGS__);                                 \
    if (!real_##name)                                                       \
        real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(ssize_t, write, int, const void *, size_t);
    if (faulty(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_write(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    REAL(ssize_t, writev, int, const struct iovec *, int);
    if (faulty(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_writev(fd, iov, cnt);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
    if (faulty(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    REAL(ssize_t, pwrite64, int, const void *, size_t, off_t);
    if (faulty(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_pwrite64(fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL(ssize_t, pwritev, int, const struct iovec *, int, off_t);
    if (faulty(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_pwritev(fd, iov, cnt, off);
}

int fsync(int fd)
{
    REAL(int, fsync, int);
    if (faulty(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    REAL(int, fdatasync, int);
    if (faulty(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real_fdatasync(fd);
}

static void hold(const char *path)
{
    const char *ctl = getenv("HOLD_FILE");
    if (!ctl || !path)
        return;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strstr(base, "wal-") && !strstr(base, "snap-"))
        return;
    for (int i = 0; i < 6000 && access(ctl, F_OK) == 0; i++)
        usleep(10000);
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    REAL(int, open, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    hold(path);
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    REAL(int, open64, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    hold(path);
    return real_open64(path, flags, mode);
}
