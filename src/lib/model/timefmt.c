/*
 * Timestamps.  The model keeps Glue's form (epoch seconds, a JSON number,
 * millisecond precision) but snapshot files carry whatever their producer
 * wrote: epoch milliseconds as a string or a number (the utility's
 * Glue-side export), Java's "Apr 04, 2017 08:58:43 AM" in UTC (its
 * Hive-side export), an object wrapping one of those ({"$date": ...}), that
 * object's text in a string, "{}" for no time at all (the utility writes
 * both), and ISO 8601 from tools built on the AWS CLI.  Everything is parsed by hand:
 * strptime and timegm depend on the locale and the TZ variable, and a
 * snapshot must read the same everywhere.
 */
#include "model_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Largest accepted |epoch ms|: a little under 2^53, so ms stay exact. */
#define MS_TIME_MAX_MS 9.0e15

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dm[m - 1] + (m == 2 && leap);
}

/* Read between min and max digits at *p; -1 when there are too few. */
static int digits(const char **p, int min, int max)
{
	const char *s = *p;
	int v = 0, n = 0;

	while (n < max && s[n] >= '0' && s[n] <= '9') {
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n < min)
		return -1;
	*p = s + n;
	return v;
}

static int valid_date(int y, int mo, int d, int h, int mi, int sec)
{
	return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo) && h >= 0 &&
	       h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 60;
}

static double to_seconds(int y, int mo, int d, int h, int mi, int sec, int ms, int offset_min)
{
	int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
		    sec - (int64_t)offset_min * 60;

	return ((double)t * 1000.0 + ms) / 1000.0;
}

double ms_model_time_round(double seconds)
{
	return round(seconds * 1000.0) / 1000.0;
}

/* A space, or U+202F (newer JDKs put it before AM/PM). */
static int skip_space(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;

	if (s[0] == ' ') {
		*p += 1;
		return 0;
	}
	if (s[0] == 0xE2 && s[1] == 0x80 && s[2] == 0xAF) {
		*p += 3;
		return 0;
	}
	return -1;
}

/* Java's `MMM dd, yyyy hh:mm:ss a`, e.g. "Apr 04, 2017 08:58:43 AM", UTC. */
static int parse_hive(const char *s, double *seconds)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	char mon[4];
	int i, mo = 0, d, y, h, mi, sec, pm;

	for (i = 0; i < 3; i++) {
		if (!isalpha((unsigned char)s[i]))
			return MS_EINVAL;
		mon[i] = (char)tolower((unsigned char)s[i]);
	}
	mon[3] = '\0';
	for (i = 0; i < 12; i++)
		if (!memcmp(months + 3 * i, mon, 3))
			mo = i + 1;
	if (!mo)
		return MS_EINVAL;
	s += 3;
	if (skip_space(&s) < 0 || (d = digits(&s, 1, 2)) < 0 || *s++ != ',' || skip_space(&s) < 0 ||
	    (y = digits(&s, 4, 4)) < 0 || skip_space(&s) < 0 || (h = digits(&s, 1, 2)) < 0 ||
	    *s++ != ':' || (mi = digits(&s, 2, 2)) < 0 || *s++ != ':' ||
	    (sec = digits(&s, 2, 2)) < 0 || skip_space(&s) < 0)
		return MS_EINVAL;
	if ((s[0] == 'A' || s[0] == 'a') && (s[1] == 'M' || s[1] == 'm'))
		pm = 0;
	else if ((s[0] == 'P' || s[0] == 'p') && (s[1] == 'M' || s[1] == 'm'))
		pm = 1;
	else
		return MS_EINVAL;
	s += 2;
	while (*s == ' ')
		s++;
	if (*s || h < 1 || h > 12)
		return MS_EINVAL;
	h = h % 12 + (pm ? 12 : 0);
	if (!valid_date(y, mo, d, h, mi, sec))
		return MS_EINVAL;
	*seconds = to_seconds(y, mo, d, h, mi, sec, 0, 0);
	return 0;
}

int ms_model_time_iso(const char *s, double *seconds)
{
	int y, mo, d, h, mi, sec = 0, ms = 0, off = 0;

	if ((y = digits(&s, 4, 4)) < 0 || *s++ != '-' || (mo = digits(&s, 2, 2)) < 0 ||
	    *s++ != '-' || (d = digits(&s, 2, 2)) < 0)
		return MS_EINVAL;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return MS_EINVAL;
	s++;
	if ((h = digits(&s, 2, 2)) < 0 || *s++ != ':' || (mi = digits(&s, 2, 2)) < 0)
		return MS_EINVAL;
	if (*s == ':') {
		s++;
		if ((sec = digits(&s, 2, 2)) < 0)
			return MS_EINVAL;
		if (*s == '.' || *s == ',') {
			int scale = 100, n = 0, round_up = 0;

			s++;
			while (*s >= '0' && *s <= '9') {
				if (n < 3)
					ms += (*s - '0') * scale;
				else if (n == 3)
					round_up = *s >= '5';
				scale /= 10;
				n++;
				s++;
			}
			if (!n)
				return MS_EINVAL;
			ms += round_up;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om = 0;

		if ((oh = digits(&s, 2, 2)) < 0)
			return MS_EINVAL;
		if (*s == ':')
			s++;
		if (*s && (om = digits(&s, 2, 2)) < 0)
			return MS_EINVAL;
		if (oh > 23 || om > 59)
			return MS_EINVAL;
		off = sign * (oh * 60 + om);
	}
	if (*s || !valid_date(y, mo, d, h, mi, sec))
		return MS_EINVAL;
	*seconds = to_seconds(y, mo, d, h, mi, sec, ms, off);
	return 0;
}

/* Epoch milliseconds written as a decimal string: "1651241372000". */
static int parse_ms_string(const char *s, double *seconds)
{
	const char *p = s;
	char *end;
	double v;

	if (*p == '-' || *p == '+')
		p++;
	if (!(*p >= '0' && *p <= '9'))
		return MS_EINVAL;
	while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
	       *p == '-')
		p++;
	if (*p)
		return MS_EINVAL;
	v = strtod(s, &end);
	if (*end || !isfinite(v) || fabs(v) > MS_TIME_MAX_MS)
		return MS_EINVAL;
	*seconds = round(v) / 1000.0;
	return 0;
}

int ms_model_time_string(const char *s, double *seconds)
{
	while (*s == ' ')
		s++;
	if ((*s >= '0' && *s <= '9') || *s == '-' || *s == '+') {
		if (parse_ms_string(s, seconds) == 0)
			return 0;
		return ms_model_time_iso(s, seconds);
	}
	return parse_hive(s, seconds);
}

static int time_parse(const cJSON *v, double *seconds, int depth);

/*
 * An object's text in a string, as the utility writes a time it read
 * wrapped ("{\"$date\":\"1651241372000\"}"), or "{}" for one it did not
 * have: what the object holds.
 */
static int time_in_text(const char *s, double *seconds, int depth)
{
	cJSON *v = cJSON_Parse(s);
	int rc = v && ms_j_obj(v) ? time_parse(v, seconds, depth + 1) : MS_EINVAL;

	cJSON_Delete(v);
	return rc;
}

static int time_parse(const cJSON *v, double *seconds, int depth)
{
	const char *s;

	if (!v || depth > 4)
		return MS_EINVAL;
	if (ms_j_num(v)) {
		if (!isfinite(v->valuedouble) || fabs(v->valuedouble) > MS_TIME_MAX_MS)
			return MS_EINVAL;
		*seconds = round(v->valuedouble) / 1000.0;
		return 0;
	}
	if (ms_j_str(v) && v->valuestring) {
		for (s = v->valuestring; *s == ' '; s++)
			;
		return *s == '{' ? time_in_text(s, seconds, depth)
				 : ms_model_time_string(v->valuestring, seconds);
	}
	if (ms_j_obj(v) && !v->child)
		return 1; /* {}: no time */
	if (ms_j_obj(v) && !v->child->next)
		return time_parse(v->child, seconds, depth + 1);
	return MS_EINVAL;
}

int ms_time_parse(const cJSON *v, double *seconds)
{
	double t;
	int rc;

	if ((rc = time_parse(v, &t, 0)) != 0)
		return rc;
	*seconds = t;
	return 0;
}
