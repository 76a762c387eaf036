/* A03/A33: CPU. Modes:
 *   wall SECS THREADS  spin THREADS threads for SECS of wall time, then
 *                      report the CPU/wall ratio (escaped if it got more
 *                      than LIMIT percent of one CPU, argv[4], default 25)
 *   cpu SECS           spin until SECS of CPU time are used (escaped if
 *                      it got there: nothing stopped it) */
#include <pthread.h>
#include <time.h>
#include "attack.h"

static volatile int stop;

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *spin(void *arg)
{
    (void)arg;
    while (!stop)
        ;
    return NULL;
}

int main(int argc, char **argv)
{
    attack_name = "cpu_spin";
    if (argc < 3)
        BROKEN("usage: cpu_spin wall|cpu SECS [THREADS [LIMIT%%]]");
    long secs = arg_long(argc, argv, 2, 1);
    if (strcmp(argv[1], "cpu") == 0) {
        while (now(CLOCK_PROCESS_CPUTIME_ID) < (double)secs)
            ;
        verdict(1, "used %ld s of CPU unhindered", secs);
    }
    long threads = arg_long(argc, argv, 3, 1), limit = arg_long(argc, argv, 4, 25);
    pthread_t t[64];
    if (threads < 1 || threads > 64)
        BROKEN("threads");
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 1; i < threads; i++)
        pthread_create(&t[i], NULL, spin, NULL);
    while (now(CLOCK_MONOTONIC) - w0 < (double)secs)
        ;
    stop = 1;
    double ratio = (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / (now(CLOCK_MONOTONIC) - w0);
    verdict(ratio * 100 > (double)limit, "cpu/wall = %.3f (limit %ld%%) with %ld threads",
            ratio, limit, threads);
}
