/* Text helpers for tests. */
#ifndef MS_TEST_TEXT_H
#define MS_TEST_TEXT_H

/* printf into a new string; fails the test when out of memory. */
char *ms_test_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

#endif
