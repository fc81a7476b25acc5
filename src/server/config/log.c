#include "server/config/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = SRV_LOG_NOTICE;

void srv_log_set_level(int level)
{
    atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int srv_log_level(void)
{
    return atomic_load_explicit(&log_level, memory_order_relaxed);
}

void srv_log(int level, const char *fmt, ...)
{
    if (level < srv_log_level())
        return;
    static const char marks[] = ".-*#";
    char line[1024];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    size_t n = (size_t)snprintf(line, sizeof(line), "%d:M ", (int)getpid());
    n += strftime(line + n, sizeof(line) - n, "%d %b %Y %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03d %c ",
                          (int)(tv.tv_usec / 1000),
                          marks[level >= 0 && level <= 3 ? level : 2]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line: lines from different threads never mix. */
    ssize_t wr = write(STDERR_FILENO, line, n);
    (void)wr;
}
