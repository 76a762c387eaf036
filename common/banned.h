/*
 * banned.h - functions the project does not use (STYLE R11).
 *
 * Force-included into every translation unit by the Makefile. Each name below
 * has a safer replacement: snprintf for sprintf, str_copy() (common/util.h)
 * for strcpy/strcat, parse_u64()/parse_i64() for atoi/atol, strtok_r for
 * strtok. System headers are included before the poison takes effect where
 * they declare these names, so only our own uses trip it.
 */
#ifndef CAIRN_BANNED_H
#define CAIRN_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC poison strcpy strcat sprintf vsprintf gets strtok atoi atol

#endif
