/*
 * Durations as people write them in configs and on command lines: a whole
 * number and one unit, s, m, h or d ("90s", "15m", "24h", "7d"), and ms
 * where less than a second makes sense ("200ms").
 */
#ifndef MS_UTIL_DURATION_H
#define MS_UTIL_DURATION_H

/* Parse text into *seconds; MS_EINVAL (*seconds untouched) when malformed or too large. */
int ms_parse_duration(const char *text, long long *seconds);
/* The same in milliseconds, also taking the unit ms ("200ms", "2s"). */
int ms_parse_duration_ms(const char *text, long long *ms);

#endif
