/*
 * Id reservation for the Hive Metastore driver.  Hive's rows take their ids
 * from SEQUENCE_TABLE as DataNucleus allocates them; metasync reserves them
 * the same way, on a connection of its own in short transactions, so that
 * a metastore server writing the same database is never blocked by a long
 * write of metasync's nor collides with its ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/hms_internal.h"

/*
 * Reserve n consecutive ids of a model class the DataNucleus way, on the id
 * connection in a transaction of its own: lock the SEQUENCE_TABLE row, take
 * [NEXT_VAL, NEXT_VAL+n) (never below the table's largest id + 1), move
 * NEXT_VAL on.  A missing row is created above the table's largest id.
 * Blocks of HMS_ID_BLOCK are cached, so that small writes do not lock the
 * row each time.
 */
int hms_reserve_ids(hms_catalog *self, const char *cls, const char *table, const char *idcol,
		    size_t n, long long *first, ms_error *err)
{
	struct idblock *b = NULL;
	char sql[256], nv[32];
	const char *p[2];
	rowset rs = { 0 };
	long long next = 0, max = 0, want;
	int rc, attempt, found;
	size_t i;

	for (i = 0; i < sizeof(self->ids) / sizeof(self->ids[0]); i++) {
		if (!self->ids[i].cls || strcmp(self->ids[i].cls, cls) == 0) {
			b = &self->ids[i];
			b->cls = cls;
			break;
		}
	}
	if (b && b->end - b->next >= (long long)n) {
		*first = b->next;
		b->next += (long long)n;
		return 0;
	}
	want = (long long)(n > HMS_ID_BLOCK ? n : HMS_ID_BLOCK);
	for (attempt = 0; attempt < 3; attempt++) {
		hms_conn *c = self->idconn;

		found = 0;
		if ((rc = c->ops->begin(c, err)) < 0)
			return rc;
		p[0] = cls;
		rc = c->ops->query(c,
				   "SELECT \"NEXT_VAL\" FROM \"SEQUENCE_TABLE\" "
				   "WHERE \"SEQUENCE_NAME\" = ? FOR UPDATE",
				   p, 1, hms_collect_row, &rs, NULL, err);
		if (rc < 0)
			goto fail;
		found = rs.nrows > 0;
		if (found)
			next = strtoll(CELL(&rs, 0, 0), NULL, 10);
		hms_rowset_free(&rs);
		snprintf(sql, sizeof(sql), "SELECT MAX(\"%s\") FROM \"%s\"", idcol, table);
		if ((rc = c->ops->query(c, sql, NULL, 0, hms_collect_row, &rs, NULL, err)) < 0)
			goto fail;
		max = rs.nrows && CELL(&rs, 0, 0) ? strtoll(CELL(&rs, 0, 0), NULL, 10) : 0;
		hms_rowset_free(&rs);
		if (!found || next <= max)
			next = max + 1;
		snprintf(nv, sizeof(nv), "%lld", next + want);
		p[0] = nv;
		p[1] = cls;
		rc = c->ops->query(c,
				   found ? "UPDATE \"SEQUENCE_TABLE\" SET \"NEXT_VAL\" = ? "
					   "WHERE \"SEQUENCE_NAME\" = ?"
					 : "INSERT INTO \"SEQUENCE_TABLE\" (\"NEXT_VAL\", "
					   "\"SEQUENCE_NAME\") VALUES (?, ?)",
				   p, 2, NULL, NULL, NULL, err);
		if (rc < 0)
			goto fail;
		if ((rc = c->ops->commit(c, err)) < 0)
			return rc;
		break;
	fail : {
		ms_error ignored;

		hms_rowset_free(&rs);
		c->ops->rollback(c, &ignored);
		/* a concurrent first insert of the row: try again */
		if (found || rc == MS_EIO || attempt == 2)
			return rc;
	}
	}
	*first = next;
	if (b) {
		b->next = next + (long long)n;
		b->end = next + want;
	}
	return 0;
}
