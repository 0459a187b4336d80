/*
 * One parser for durations, shared by the agent's config (schedules,
 * ack_wait) and the command line (store gc --grace), so that "24h" means
 * the same everywhere.
 */
#include "util/duration.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "metasync/error.h"

int ms_parse_duration(const char *text, long long *seconds)
{
	long long v = 0, unit;
	const char *s = text;

	if (!s || *s < '0' || *s > '9')
		return MS_EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (LLONG_MAX - 9) / 10)
			return MS_EINVAL;
		v = v * 10 + (*s - '0');
	}
	switch (*s) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return MS_EINVAL;
	}
	if (s[1] || v > LLONG_MAX / unit)
		return MS_EINVAL;
	*seconds = v * unit;
	return 0;
}

int ms_parse_duration_ms(const char *text, long long *ms)
{
	long long v = 0, s;
	size_t n = text ? strlen(text) : 0;
	const char *p;

	if (n > 2 && strcmp(text + n - 2, "ms") == 0) {
		for (p = text; p < text + n - 2; p++) {
			if (*p < '0' || *p > '9' || v > (LLONG_MAX - 9) / 10)
				return MS_EINVAL;
			v = v * 10 + (*p - '0');
		}
		*ms = v;
		return 0;
	}
	if (ms_parse_duration(text, &s) < 0 || s > LLONG_MAX / 1000)
		return MS_EINVAL;
	*ms = s * 1000;
	return 0;
}
