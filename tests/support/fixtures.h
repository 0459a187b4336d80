/* Reading test fixtures from tests/fixtures (MS_FIXTURES, or found from the source tree). */
#ifndef MS_TEST_FIXTURES_H
#define MS_TEST_FIXTURES_H

/* The path of fixture rel, e.g. "model/rich_table.jsonl" (new). */
char *ms_test_fixture_path(const char *rel);
/* The whole fixture without its trailing newlines (new); fails the test when unreadable or empty. */
char *ms_test_read_fixture(const char *rel);

#endif
