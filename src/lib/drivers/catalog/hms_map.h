/*
 * Pure mappings between the Hive Metastore's stored forms and the Glue
 * model, shared by the Hive Metastore driver and its unit tests: Hive's
 * escaped partition names, Glue's encoding of skewed value lists, and the
 * column limits of the Hive 3.1 schema.
 */
#ifndef MS_DRIVERS_HMS_MAP_H
#define MS_DRIVERS_HMS_MAP_H

#include <stddef.h>

#include "drivers/catalog/hms_sql.h"
#include "util/buf.h"

#define HMS_DEFAULT_PARTITION "__HIVE_DEFAULT_PARTITION__"

/*
 * Append s escaped as Hive's FileUtils.escapePathName does: `%XX` (upper-case
 * hex) for control characters, DEL and `" # % ' * / : = ? \ { [ ] ^`; a NULL
 * or empty s is __HIVE_DEFAULT_PARTITION__.  0 or MS_ETOOBIG.
 */
int hms_escape_path(ms_buf *out, const char *s);

/*
 * Append Hive's PART_NAME for n keys (lowercased) and values:
 * `k1=v1/k2=v2`, each part escaped.  0 or MS_ETOOBIG.
 */
int hms_part_name(ms_buf *out, const char *const *keys, const char *const *values, size_t n);

/*
 * Glue's encoding of a skewed value list, as the model keeps it:
 * ms_model_skew_encode, and ms_model_skew_split with '$' (model_internal.h).
 */
int hms_skew_encode(ms_buf *out, const char *const *values, size_t n);
int hms_skew_decode(const char *s, const char **starts, size_t *lens, size_t max, size_t *n);

/* Characters in a UTF-8 string (bytes that are not continuation bytes). */
size_t hms_chars(const char *s, size_t len);

/*
 * Largest character count of a Hive column, by "TABLE.COLUMN" and dialect;
 * 0 for a column without a limit (text).
 */
size_t hms_column_limit(hms_dialect d, const char *column);

#endif
