/*
 * Fuzz target: the view text scanner that rewrites database and table
 * names inside view SQL (view texts come from source catalogs), and the
 * parser of a location rewrite rule.  Every message is one line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replicate/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const dbs[] = { "sales", "a", "x_y" };
	static const char *const tdbs[] = { "sales", "sales", "a" };
	static const char *const tables[] = { "orders", "v_orders", "t" };
	const char *renames[] = { "a=b" }, *rules[1];
	ms_sync_options o;
	ms_mapping m;
	ms_error err;
	char *s = malloc(size + 1), *out;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&o, 0, sizeof(o));
	o.max_deletes = -1;
	o.database_prefix = "p_";
	o.table_prefix = "t_";
	o.renames = renames;
	o.nrenames = 1;
	if (ms_mapping_init(&m, &o, &err) == 0 && ms_mapping_set_databases(&m, dbs, 3, &err) == 0 &&
	    ms_mapping_set_tables(&m, tdbs, tables, 3, &err) == 0) {
		out = ms_mapping_rewrite_sql(&m, s, "sales");
		free(out);
	}
	ms_mapping_free(&m);
	rules[0] = s;
	o.location_rewrites = rules;
	o.nrewrites = 1;
	if (ms_sync_options_check(&o, &err) < 0 && strchr(err.message, '\n'))
		abort();
	free(s);
	return 0;
}
