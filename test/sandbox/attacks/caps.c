/* A13: capabilities. Mode "status": escaped if any capability is in the
 * effective, permitted or bounding set. Mode "setuid": escaped if
 * setuid(0) works. */
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "caps";
    if (argc > 1 && strcmp(argv[1], "setuid") == 0) {
        if (setuid(0) == 0 && getuid() == 0)
            verdict(1, "setuid(0) worked");
        verdict(0, "setuid(0): %s", strerror(errno));
    }
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        BROKEN("status: %s", strerror(errno));
    char line[256], found[300] = "";
    bool any = false;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "CapEff:", 7) && strncmp(line, "CapPrm:", 7) &&
            strncmp(line, "CapBnd:", 7) && strncmp(line, "CapAmb:", 7))
            continue;
        unsigned long long v = strtoull(line + 7, NULL, 16);
        line[strcspn(line, "\n")] = '\0';
        size_t len = strlen(found);
        snprintf(found + len, sizeof(found) - len, "%s ", line);
        if (v)
            any = true;
    }
    verdict(any, "%s", found);
}
