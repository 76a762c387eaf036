/* A04: never write anything; sleep SECS, then report that nothing stopped
 * it (escaped). */
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "idle";
    long secs = arg_long(argc, argv, 1, 5);
    sleep((unsigned)secs);
    verdict(1, "sat idle for %ld s without output", secs);
}
