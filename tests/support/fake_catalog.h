/*
 * An in-memory catalog driver that counts calls, for testing the engine
 * without a backend (as libgit2 tests its core against fake_backend).
 */
#ifndef MS_TEST_FAKE_CATALOG_H
#define MS_TEST_FAKE_CATALOG_H

#include "metasync/sys/catalog.h"

typedef struct fake_calls {
	int put_database, delete_database, put_table, delete_table, scan, put_partitions,
		put_partition_rows, delete_partitions, begin, commit, rollback, verify, digest;
} fake_calls;

typedef struct fake_catalog {
	ms_catalog base;
	ms_entity **items;
	size_t n;
	fake_calls calls;
	int transactional;
	int support_digest;
	int fail_verify;            /* verify_table answers MS_EINTEGRITY */
	int fail_put_partitions_at; /* the Nth put_partitions call fails (1-based); 0 never */
	const char *refuse_vkey; /* a batch holding this partition: MS_EEXISTS, nothing written */
	/* called at every verify_table: another writer acting between plan and apply */
	void (*on_verify)(void *ctx);
	void *on_verify_ctx;
	/* called before every put_table; a negative return fails the put with it */
	int (*on_put_table)(struct fake_catalog *f, const ms_entity *t, ms_error *err);
	/* a snapshot of items taken at begin, restored by rollback */
	ms_entity **saved;
	size_t nsaved;
} fake_catalog;

/* A new empty fake catalog with identity id (new; ms_catalog_close). */
fake_catalog *fake_catalog_new(const char *id, int transactional, int support_digest);
/* Add an entity built from Glue JSON text; aborts the test on bad input. */
void fake_add(fake_catalog *f, ms_kind kind, const char *db, const char *table, const char *json);
/* Number of entities of a kind. */
size_t fake_count(const fake_catalog *f, ms_kind kind);
/* Borrowed entity or NULL. */
ms_entity *fake_find(const fake_catalog *f, ms_kind kind, const char *db, const char *table,
		     const char *vkey);
int fake_writes(const fake_catalog *f);

#endif
