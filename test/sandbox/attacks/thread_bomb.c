/* A01: thread bomb. Creates up to N threads that sleep; escaped if all N
 * were created. */
#include <pthread.h>
#include "attack.h"

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    attack_name = "thread_bomb";
    long n = arg_long(argc, argv, 1, 500), got = 0;
    int err = 0;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    for (; got < n; got++) {
        pthread_t t;
        if ((err = pthread_create(&t, &a, sleeper, NULL)) != 0)
            break;
    }
    verdict(got >= n, "%ld of %ld threads created%s%s", got, n, err ? ", then " : "",
            err ? strerror(err) : "");
}
