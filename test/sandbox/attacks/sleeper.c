/* The victim of the cross-tenant tests: reads stdin until EOF, then exits
 * 0. If it is killed instead, the runner sees it. */
#include "attack.h"

int main(void)
{
    attack_name = "sleeper";
    char buf[256];
    while (read(0, buf, sizeof(buf)) > 0)
        ;
    verdict(0, "stdin closed; still alive");
}
