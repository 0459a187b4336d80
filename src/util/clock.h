/*
 * The monotonic clock, for timeouts, intervals and durations (changes of
 * the wall clock do not move it).
 */
#ifndef MS_UTIL_CLOCK_H
#define MS_UTIL_CLOCK_H

/* Seconds on CLOCK_MONOTONIC. */
double ms_mono_s(void);

#endif
